// A topology is one stack layout the bench runs its sections on: which Temporal, how the dev
// server keeps history, which database holds Herald's data, how many replicas. BENCH_TEMPORAL,
// BENCH_TEMPORAL_DB, BENCH_DATABASE and BENCH_REPLICAS are each a list; every combination is one
// topology, and its name heads its report and its row of the side-by-side table.
import type { DatabaseMode, TemporalDbMode, TemporalMode } from './stack';

export const TEMPORAL_DB_TEXT = {
  file: 'in a SQLite file with journal_mode=wal, synchronous=full (as npm start)',
  'file-wal-normal': 'in a SQLite file with journal_mode=wal, synchronous=normal',
  'file-rollback': "in a SQLite file with the CLI's default rollback journal",
  memory: 'in memory (as the tests)',
} as const satisfies Record<TemporalDbMode, string>;
export type TemporalDb = keyof typeof TEMPORAL_DB_TEXT;

/** One stack layout: which Temporal, how it keeps history (dev server only), which database, how many replicas. */
export interface Topology {
  temporal: TemporalMode;
  /** The dev server's history mode; undefined for the cluster. */
  temporalDb?: TemporalDb;
  database: DatabaseMode;
  replicas: number;
}

export const topologyName = (t: Topology) => `${t.temporal === 'dev' ? `dev/${t.temporalDb}` : 'cluster'} ${t.database} ×${t.replicas}`;

/** Every combination of the lists, in order; sqlite with more than one replica is skipped (by name). */
export function topologies(
  temporals: TemporalMode[],
  temporalDbs: TemporalDb[],
  databases: DatabaseMode[],
  replicaCounts: number[],
): { run: Topology[]; skipped: string[] } {
  const run: Topology[] = [];
  const skipped: string[] = [];
  for (const temporal of temporals) {
    for (const temporalDb of temporal === 'dev' ? temporalDbs : [undefined]) {
      for (const database of databases) {
        for (const replicas of replicaCounts) {
          const topology: Topology = { temporal, ...(temporalDb && { temporalDb }), database, replicas };
          // Replicas share one database; Herald's SQLite file is for one host, one worker, one API.
          if (database === 'sqlite' && replicas > 1) skipped.push(topologyName(topology));
          else run.push(topology);
        }
      }
    }
  }
  return { run, skipped };
}

/** The topology in a sentence, for the head of its report. */
export function topologyText(t: Topology): string {
  const temporal =
    t.temporal === 'dev'
      ? `Temporal dev server, history ${TEMPORAL_DB_TEXT[t.temporalDb ?? 'file']}`
      : "Temporal server (temporal/cluster.ts: all services in one temporal-server process) on a PostgreSQL server of its own, set up as test/support/postgres-server.ts; Temporal's CPU includes that PostgreSQL";
  const database =
    t.database === 'postgres'
      ? "Herald's data in PostgreSQL (a server of the bench's own, set up as test/support/postgres-server.ts: fsync=off, synchronous_commit=off), DATABASE_URL for every worker and API"
      : "Herald's data in the embedded SQLite file (as npm start)";
  const replicas =
    t.replicas === 1
      ? 'One worker, one API, one accept-only API'
      : `${t.replicas} workers on one task queue, ${t.replicas} APIs and ${t.replicas} accept-only APIs, calls round-robin over the APIs; CPU summed over the replicas of each kind`;
  return `${temporal}. ${database}. ${replicas}`;
}
