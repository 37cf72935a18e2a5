// `npm run bench [-- <section>...] [--profile] [--keep-data]`
// Sections: accept, e2e, resources, growth (= growth-recipients + growth-profiles), steps-cost, import, audience,
// executions-list, waiting-runs, high-throughput, all (default: every section but waiting-runs and high-throughput).
// import (bench/profile-import.ts): 100,000 profiles (× BENCH_SCALE) through POST /v1/profiles/import, one streamed NDJSON body.
// audience (bench/audience-run.ts): 100,000 profiles (× BENCH_SCALE) imported, then one unthrottled audience run of a
// marketing email campaign to all of them through the outbox provider: total time, messages/s, peak worker RSS.
// executions-list (bench/execution-listing.ts): 1,000,000 executions (× BENCH_SCALE) written straight into the database,
// then GET /v1/executions timed per filter combination: first page and page 200 (via the cursor), median and p95, with the plans.
// steps-cost (bench/modes/steps-cost.ts): end to end, a campaign of one send step against a step-less one on the same
// stack, interleaved S O O S, at 1 and 5 recipients: what running a trigger through the steps workflow costs.
// waiting-runs (bench/modes/waiting-runs.ts), only when named: 10,000 triggers (× BENCH_SCALE) of a campaign whose
// steps are [delay PT1H, send], the worker's RSS and V8 heaps sampled as they come to wait and for a minute after.
// high-throughput (bench/modes/high-throughput.ts), only when named: issue 23's targets side by side on one
// stack: the standard 1-recipient pair with the ceiling, 20,000 (× BENCH_SCALE) one-recipient triggers of a
// "throughput": "high" campaign from 64 callers through an API with HERALD_RATE_LIMIT raised, then growth
// with callers (16, 64, 256) and recipients per call (1, 20).
// Starts its own embedded stack (bench/stack.ts) on non-default ports with a temporary
// HERALD_DATA_DIR and the outbox email provider, runs the sections, prints tables, stops it all.
// BENCH_SCALE (default 1) multiplies every call count, e.g. BENCH_SCALE=0.2 for a smoke run.
// BENCH_TEMPORAL_DB picks how the dev server keeps history: file (default, as npm start: WAL,
// synchronous=full), file-wal-normal, file-rollback (the CLI's default journal) or memory (as the
// tests); a comma list such as file,file-rollback,memory is one of the topology lists below.
// Topologies (each a comma list; every combination runs on a fresh stack, one after the other in
// the order logged at the start, and a side-by-side table ends the run):
//   BENCH_DATABASE  sqlite (default, as npm start) | postgres: Herald's data in a PostgreSQL server
//                   the bench starts itself (test/support/postgres-server.ts), passed as DATABASE_URL.
//   BENCH_REPLICAS  1 (default) | N: N workers on one task queue, N trigger APIs and N accept-only
//                   APIs; the load generator spreads calls round-robin over the APIs. N > 1 needs
//                   PostgreSQL: a combination of sqlite with N > 1 is skipped (and listed as such);
//                   if every combination would be one, the bench refuses to start.
//   BENCH_TEMPORAL  dev (default, the dev server as npm start) | cluster: a real Temporal server on
//                   PostgreSQL through temporal/cluster.ts (bench/stack.ts, startClusterForBench).
//                   BENCH_TEMPORAL_DB applies to dev only.
//   BENCH_ROUNDS    how many times to run the whole list of combinations (default 1); every other
//                   round runs it in reverse (A B C, C B A), so drift weighs on all alike.
// BENCH_PORT_BASE (default 17000): APIs on it and +2, +4 ..., accept-only APIs on +1, +3 ...,
// Temporal on +233.
// BENCH_CODEC: on (default, as npm start: payloads AES-GCM encrypted with a fresh random key, for
// Herald and the bare baseline alike) or off (Temporal's default data converter everywhere).
// BENCH_JSON: where to write the raw results as JSON (default $TMPDIR/herald-bench-<id>.json).
// BENCH_HT_PARTITIONS: HERALD_HIGH_THROUGHPUT_PARTITIONS for every worker and API of the stack
// (default: theirs, 4), to see what the high-throughput section gains from more dispatchers.
// BENCH_WORKER_MAX_CACHED_WORKFLOWS: waiting-runs only, the worker's sticky cache limit (maxCachedWorkflows)
// instead of the SDK's default, set through the section's memory probe (src/ unchanged).
// The e2e section also runs the ceiling, bare workflows of ONE no-op local activity
// (bench/bare-workflow.ts, one-local-activity), and reports Herald's rate as a fraction of it;
// BENCH_CEILING=off leaves it out (bench:compare does, to run every build's pairs alike).
// This file only reads the command line and the environment and dispatches: each section lives in
// bench/modes/, the stacks run in bench/topology-loop.ts, each stack's report is
// bench/stack-report.ts and the closing table bench/side-by-side.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAMED_ONLY_SECTIONS, SECTIONS, type BenchSettings, type Section } from './settings';
import { sideBySide } from './side-by-side';
import type { CodecMode, DatabaseMode, TemporalMode } from './stack';
import { fmt, summarize } from './stats';
import { TEMPORAL_DB_TEXT, topologies, type TemporalDb } from './topology';
import { runTopologies } from './topology-loop';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((a) => !['all', 'growth', ...SECTIONS].includes(a));
if (unknown.length > 0) {
  console.error(`unknown section(s) ${unknown.join(', ')}; use: all, ${SECTIONS.join(', ')}, growth`);
  process.exit(2);
}
const wanted = new Set<Section>(
  named.length === 0 || named.includes('all')
    ? SECTIONS.filter((section) => !NAMED_ONLY_SECTIONS.includes(section))
    : named.flatMap((a) => (a === 'growth' ? (['growth-recipients', 'growth-profiles'] as const) : [a as Section])),
);
const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
const TEMPORAL_DBS = (process.env.BENCH_TEMPORAL_DB ?? 'file').split(',').map((mode) => mode.trim()) as TemporalDb[];
const badMode = TEMPORAL_DBS.find((mode) => !(mode in TEMPORAL_DB_TEXT));
if (badMode) {
  console.error(`BENCH_TEMPORAL_DB=${badMode}? use file, file-wal-normal, file-rollback or memory (or a comma list)`);
  process.exit(2);
}
const list = (name: string, fallback: string) =>
  (process.env[name] || fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const DATABASES = list('BENCH_DATABASE', 'sqlite') as DatabaseMode[];
const badDatabase = DATABASES.find((db) => db !== 'sqlite' && db !== 'postgres');
if (badDatabase) {
  console.error(`BENCH_DATABASE=${badDatabase}? use sqlite (default, as npm start) or postgres (or a comma list)`);
  process.exit(2);
}
const REPLICAS = list('BENCH_REPLICAS', '1').map(Number);
if (REPLICAS.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) {
  console.error(`BENCH_REPLICAS=${process.env.BENCH_REPLICAS}? use whole numbers from 1 to 8 (or a comma list such as 1,2)`);
  process.exit(2);
}
const TEMPORALS = list('BENCH_TEMPORAL', 'dev') as TemporalMode[];
const badTemporal = TEMPORALS.find((t) => t !== 'dev' && t !== 'cluster');
if (badTemporal) {
  console.error(
    `BENCH_TEMPORAL=${badTemporal}? use dev (default, the dev server as npm start) or cluster (a Temporal server on PostgreSQL, temporal/cluster.ts)`,
  );
  process.exit(2);
}
const { run: TOPOLOGIES, skipped: SKIPPED } = topologies(TEMPORALS, TEMPORAL_DBS, DATABASES, REPLICAS);
if (TOPOLOGIES.length === 0) {
  console.error(
    `BENCH_REPLICAS > 1 needs BENCH_DATABASE=postgres: replicas share one database, and Herald's SQLite file is for one host (nothing to run: ${SKIPPED.join(', ')})`,
  );
  process.exit(2);
}
const CODEC = (process.env.BENCH_CODEC ?? 'on').trim() as CodecMode;
if (CODEC !== 'on' && CODEC !== 'off') {
  console.error(`BENCH_CODEC=${CODEC}? use on (default, as npm start) or off`);
  process.exit(2);
}

const MAX_CACHED = process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS ? Number(process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS) : undefined;
if (MAX_CACHED !== undefined && !(Number.isInteger(MAX_CACHED) && (MAX_CACHED === 0 || MAX_CACHED >= 2))) {
  console.error(`BENCH_WORKER_MAX_CACHED_WORKFLOWS=${process.env.BENCH_WORKER_MAX_CACHED_WORKFLOWS}? use 0 (no cache) or a whole number of at least 2`);
  process.exit(2);
}

const HT_PARTITIONS = process.env.BENCH_HT_PARTITIONS ? Number(process.env.BENCH_HT_PARTITIONS) : undefined;
if (HT_PARTITIONS !== undefined && !(Number.isInteger(HT_PARTITIONS) && HT_PARTITIONS >= 1 && HT_PARTITIONS <= 64)) {
  console.error(`BENCH_HT_PARTITIONS=${process.env.BENCH_HT_PARTITIONS}? use a whole number from 1 to 64`);
  process.exit(2);
}

const bench: BenchSettings = {
  runId: Date.now().toString(36),
  sections: wanted,
  scale: SCALE,
  scaled: (n: number) => Math.max(10, Math.round(n * SCALE)),
  portBase: Number(process.env.BENCH_PORT_BASE ?? '17000'),
  codec: CODEC,
  ceiling: (process.env.BENCH_CEILING ?? 'on').trim() !== 'off',
  rounds: Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? '1') || 1)),
  ...(MAX_CACHED !== undefined && { workerMaxCachedWorkflows: MAX_CACHED }),
  ...(HT_PARTITIONS !== undefined && { highThroughputPartitions: HT_PARTITIONS }),
  keepData: flags.has('--keep-data'),
  log: (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
};

async function main(): Promise<void> {
  const { log } = bench;
  const startedAt = Date.now();
  const profRoot = flags.has('--profile') ? mkdtempSync(join(tmpdir(), 'herald-bench-prof-')) : undefined;
  if (SKIPPED.length > 0)
    log(`skipping ${SKIPPED.join(', ')}: replicas share one database, and Herald's SQLite file is for one host (use BENCH_DATABASE=postgres)`);
  const all = await runTopologies(bench, TOPOLOGIES, profRoot);
  if (all.length > 1) console.log(sideBySide(all, bench.ceiling, SKIPPED));
  const jsonPath = process.env.BENCH_JSON || join(tmpdir(), `herald-bench-${bench.runId}.json`);
  // Raw latencies stay out of the JSON; it keeps their summaries.
  writeFileSync(
    jsonPath,
    JSON.stringify(all, (key, value) => (key === 'latencies' ? summarize(value as number[]) : value), 2),
  );
  log(`raw results in ${jsonPath}; whole run took ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
  if (profRoot) log(`CPU profiles in ${profRoot}`);
}

await main();
