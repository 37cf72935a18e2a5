// The embedded stack, started the way `npm start` starts it: the Temporal dev server (through
// temporal/dev-server.ts, persisting to <dataDir>/temporal.db), then the worker and the API as
// separate `node --import tsx` processes. On top of that the benchmark adds:
// - a second API process on a task queue no worker polls, to time the accept path on its own;
// - the bare-Temporal baseline worker (bench/bare-worker.ts) on its own task queue.
// Like `npm start`, the worker and the API get their environment through the allow lists of
// src/entry/child-environments.ts, and payloads are encrypted with a fresh random key that
// src/entry/payload-key-file.ts writes into the data dir (BENCH_CODEC=off runs without a codec).
// The bare worker and the bench's own Temporal clients use the same data converter.
// Topologies beyond `npm start` (bench/run.ts: BENCH_DATABASE, BENCH_REPLICAS, BENCH_TEMPORAL):
// - database 'postgres': a throwaway PostgreSQL server of the stack's own
//   (test/support/postgres-server.ts) with one fresh database, passed as DATABASE_URL to every
//   worker and API; 'sqlite' (default) is <dataDir>/herald.db as `npm start`;
// - replicas N: N workers on the one task queue, N trigger APIs and N accept-only APIs, all on the
//   same database (so N > 1 needs PostgreSQL), as docs/operations.md, "Running several APIs and workers";
// - temporal 'cluster': a real Temporal server on PostgreSQL (temporal/cluster.ts, see
//   startClusterForBench) instead of the dev server.
// For sections that watch the worker's memory (waiting-runs), workerMemoryProbe loads
// bench/worker-memory-probe.ts into the worker, and housekeeping 'as-npm-start' keeps the orphan
// sweep and the retention purge on npm start's intervals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { durableWalPragmas, startDevServer } from '../temporal/dev-server';
import { childrenNamed, cpuSeconds, postmasterOnPort, treeCpuSeconds } from './proc';
import { childEnvironment, type ChildPart } from '../src/entry/child-environments';
import { loadOrCreatePayloadKeyFile } from '../src/entry/payload-key-file';
import { workerMemoryFile } from './worker-memory';
import { stopChild } from '../src/entry/stop-child';
import type { DatabaseTarget } from '../src/db/database';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../test/support/postgres-server';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * 'file': <dataDir>/temporal.db with the pragmas `npm start` uses (WAL, synchronous=full);
 * 'file-wal-normal': WAL with synchronous=normal (an OS crash may lose the last commits);
 * 'file-rollback': the CLI's own default, a rollback journal; 'memory': as the tests.
 */
export const temporalDbPragmas = {
  file: durableWalPragmas,
  'file-wal-normal': { journal_mode: 'wal', synchronous: 'normal' },
  'file-rollback': {},
} as const satisfies Record<string, Record<string, string>>;
export type TemporalDbMode = keyof typeof temporalDbPragmas | 'memory';

/** Herald's own database: the embedded SQLite file (as `npm start`) or a PostgreSQL server of the bench's. */
export type DatabaseMode = 'sqlite' | 'postgres';
/** The Temporal dev server (as `npm start`) or a real Temporal server on PostgreSQL (temporal/cluster.ts). */
export type TemporalMode = 'dev' | 'cluster';

export interface StackOptions {
  temporalPort: number;
  /** The first trigger API; replica i (0-based) listens on apiPort + 2i. */
  apiPort: number;
  /** The first accept-only API; replica i listens on acceptApiPort + 2i. */
  acceptApiPort: number;
  /** Write V8 CPU profiles of the worker and API processes into this directory (one subdirectory per kind). */
  cpuProfDir?: string;
  keepData?: boolean;
  /** How the dev server keeps history; see temporalDbPragmas. Default 'file', exactly as `npm start`. Ignored for 'cluster'. */
  temporalDb?: TemporalDbMode;
  /** Default 'dev'. */
  temporal?: TemporalMode;
  /** Default 'sqlite'. */
  database?: DatabaseMode;
  /** Workers, trigger APIs and accept-only APIs, N of each (default 1); N > 1 needs database 'postgres'. */
  replicas?: number;
  /**
   * 'on' (default, as `npm start`): a fresh random AES-GCM payload key in <dataDir>/payload-keys,
   * passed as HERALD_PAYLOAD_KEYS to the worker, the APIs, the bare worker and the bench's clients.
   * 'off': no HERALD_PAYLOAD_KEYS anywhere, Temporal's default data converter.
   */
  codec?: CodecMode;
  /**
   * Load bench/worker-memory-probe.ts into the worker (one replica): its heaps and sticky cache,
   * read with readWorkerMemory(stack.dataDir, pid). Default off: the worker runs as `npm start` runs it.
   */
  workerMemoryProbe?: boolean;
  /** With the probe: the worker's maxCachedWorkflows instead of the SDK's default (BENCH_WORKER_MAX_CACHED_WORKFLOWS). */
  workerMaxCachedWorkflows?: number;
  /** HERALD_HIGH_THROUGHPUT_PARTITIONS for every worker and API (BENCH_HT_PARTITIONS); unset, theirs (4). */
  highThroughputPartitions?: number;
  /**
   * 'quiet' (default): the orphan sweep and the retention purge once a day, so that executions the
   * accept rows leave running are not swept mid-run. 'as-npm-start': their default intervals.
   */
  housekeeping?: 'quiet' | 'as-npm-start';
  log: (line: string) => void;
}

export type CodecMode = 'on' | 'off';

export interface Part {
  name: string;
  child: ChildProcess;
  pid: number;
}

export const TASK_QUEUE = 'herald-bench';
/** The accept-only API starts its workflows here; nothing polls it, so no worker competes. */
export const UNPOLLED_TASK_QUEUE = 'herald-bench-unpolled';
export const BARE_TASK_QUEUE = 'bench-bare';
/** Bare starts for the accept comparison go here; nothing polls it either. */
export const UNPOLLED_BARE_TASK_QUEUE = 'bench-bare-unpolled';

// ---------------------------------------------------------------------------------------------
// BENCH_TEMPORAL=cluster

/** What the bench needs of a running Temporal cluster. */
export interface BenchCluster {
  address: string;
  /** The temporal-server process(es), for memory. */
  pids: () => number[];
  /** CPU seconds so far of everything that counts as "Temporal": the server and its own PostgreSQL (postmaster and backends). */
  cpuSeconds: () => number;
  stop(): Promise<void>;
}

/**
 * THE ONE PLACE that starts a real Temporal server for BENCH_TEMPORAL=cluster: temporal/cluster.ts
 * (the server production runs, all services in one temporal-server process) on a PostgreSQL
 * server of its own (test/support/postgres-server.ts), apart from Herald's database, so that its
 * CPU counts as Temporal's and Herald's PostgreSQL stays Herald's.
 */
export async function startClusterForBench(options: { port: number; log: (line: string) => void }): Promise<BenchCluster> {
  const modulePath = join(repoRoot, 'temporal/cluster.ts');
  if (!existsSync(modulePath))
    throw new Error('temporal/cluster.ts not available: BENCH_TEMPORAL=cluster needs the module that starts a Temporal server on PostgreSQL');
  const { startTemporalCluster } = (await import(pathToFileURL(modulePath).href)) as typeof import('../temporal/cluster');
  options.log("starting a PostgreSQL server for the Temporal cluster's persistence ...");
  const postgres = await startPostgresServer();
  const postmaster = postmasterOnPort(postgres.port) ?? 0;
  if (!postmaster) options.log("warning: could not find the Temporal cluster's PostgreSQL postmaster; its CPU is left out of Temporal's");
  let cluster: Awaited<ReturnType<typeof startTemporalCluster>>;
  try {
    cluster = await startTemporalCluster({ postgresAdminUrl: postgres.adminUrl, frontendPort: options.port, namespace: 'default', log: options.log });
  } catch (error) {
    await postgres.teardown().catch(() => {});
    throw error;
  }
  const pids = () => childrenNamed(process.pid, 'temporal-server');
  return {
    address: cluster.address,
    pids,
    cpuSeconds: () => {
      const server = pids();
      if (server.length === 0) return Number.NaN;
      return server.reduce((sum, pid) => sum + cpuSeconds(pid), 0) + (postmaster ? treeCpuSeconds(postmaster) : 0);
    },
    async stop() {
      try {
        await cluster.teardown();
      } finally {
        await postgres.teardown();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------

function waitFor(child: ChildProcess, what: string, ms: number, ready: (resolve: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${ms / 1000} s`)), ms);
    const onExit = (code: number | null) => reject(new Error(`${what} exited (code ${code}) before it was ready; see its log`));
    child.once('exit', onExit);
    ready(() => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve();
    });
  });
}

async function httpReady(port: number, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`API on port ${port} exited (code ${child.exitCode}); see its log`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`API on port ${port} not healthy within ${ms / 1000} s`);
}

export interface StackParts {
  /** N Herald workers on TASK_QUEUE. */
  workers: Part[];
  /** N trigger APIs (start on TASK_QUEUE), on apiPorts. */
  apis: Part[];
  /** N accept-only APIs (start on UNPOLLED_TASK_QUEUE), on acceptApiPorts. */
  acceptApis: Part[];
  bareWorker: Part;
}

export class Stack {
  readonly dataDir: string;
  /** The SQLite file (database 'sqlite'). */
  readonly databasePath: string;
  /** Herald's database, as the workers and APIs see it; set once booted. */
  database!: DatabaseTarget;
  temporalAddress: string;
  readonly replicas: number;
  readonly apiPorts: number[];
  readonly acceptApiPorts: number[];
  parts: StackParts = { workers: [], apis: [], acceptApis: [] } as unknown as StackParts;
  private devServer?: TestWorkflowEnvironment;
  private devServerPid = 0;
  private cluster?: BenchCluster;
  private postgres?: PostgresServer;
  /** The postmaster of Herald's PostgreSQL (database 'postgres'), 0 otherwise. */
  postgresPid = 0;
  private logs: WriteStream[] = [];
  private bareListeners = new Set<(count: number, at: number) => void>();
  bareFinished = { count: 0, at: 0 };
  /** When each bare execution finished, in the order reported (index = count before it). */
  bareFinishTimes: number[] = [];
  /** HERALD_PAYLOAD_KEYS of this stack (a throwaway secret: never print it); undefined with the codec off. */
  payloadKeys: string | undefined;

  private constructor(readonly options: StackOptions) {
    this.replicas = Math.max(1, options.replicas ?? 1);
    if (this.replicas > 1 && (options.database ?? 'sqlite') !== 'postgres')
      throw new Error(
        `${this.replicas} replicas need database 'postgres': replicas share one database, and Herald's SQLite file is for one host and one worker`,
      );
    this.dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
    this.databasePath = join(this.dataDir, 'herald.db');
    this.temporalAddress = `127.0.0.1:${options.temporalPort}`;
    this.apiPorts = Array.from({ length: this.replicas }, (_, i) => options.apiPort + 2 * i);
    this.acceptApiPorts = Array.from({ length: this.replicas }, (_, i) => options.acceptApiPort + 2 * i);
  }

  static async start(options: StackOptions): Promise<Stack> {
    const stack = new Stack(options);
    try {
      await stack.boot();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  /** The Temporal server process(es): the dev server, or the cluster's temporal-server. */
  temporalPids(): number[] {
    if (this.cluster) return this.cluster.pids();
    return this.devServerPid ? [this.devServerPid] : [];
  }

  /** CPU seconds so far of what counts as "Temporal": the dev server, or the cluster's server and its PostgreSQL; NaN if unknown. */
  temporalCpuSeconds(): number {
    if (this.cluster) return this.cluster.cpuSeconds();
    return this.devServerPid ? cpuSeconds(this.devServerPid) : Number.NaN;
  }

  /**
   * The caller's environment without its Herald/Temporal/Resend/database setup: outbox provider,
   * no API keys, the stack's own database (the bench reads it too).
   */
  private callerEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (/^(HERALD_|TEMPORAL_|RESEND_|EMAIL_FROM|PORT$|HOST$|PROVIDER_|DATABASE_URL$)/.test(key)) continue;
      env[key] = value;
    }
    return env;
  }

  /** What `npm start` (src/entry/start.ts) gives a part: its allow list, plus the bench's settings. */
  private partEnv(part: ChildPart, set: Record<string, string>): NodeJS.ProcessEnv {
    const shared = {
      HERALD_DATA_DIR: this.dataDir,
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      ...(this.payloadKeys && { HERALD_PAYLOAD_KEYS: this.payloadKeys }),
      ...(this.database.dialect === 'postgres' && { DATABASE_URL: this.database.url }),
      ...(this.options.highThroughputPartitions !== undefined && { HERALD_HIGH_THROUGHPUT_PARTITIONS: String(this.options.highThroughputPartitions) }),
    };
    // start.ts tells the API which provider delivers; here always the outbox.
    const perPart = part === 'api' ? { HOST: '127.0.0.1', HERALD_EMAIL_PROVIDER: 'outbox' } : {};
    return childEnvironment(part, this.callerEnv(), { ...shared, ...perPart, ...set });
  }

  /** `profKind` names the CPU-profile subdirectory: replicas of one kind share it (V8 names files by pid). */
  private spawnPart(name: string, profKind: string, script: string, env: NodeJS.ProcessEnv, ipc = false, preload: string[] = []): Part {
    const prof = this.options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(this.options.cpuProfDir, profKind)}`] : [];
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', ...preload.flatMap((module) => ['--import', module]), script], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
    });
    const log = createWriteStream(join(this.dataDir, `${name}.log`));
    this.logs.push(log);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    return { name, child, pid: child.pid! };
  }

  private async boot(): Promise<void> {
    const { log, temporalPort } = this.options;
    log(`data in ${this.dataDir}`);
    if ((this.options.database ?? 'sqlite') === 'postgres') {
      log('starting a PostgreSQL server for Herald (test/support/postgres-server.ts) ...');
      this.postgres = await startPostgresServer();
      const created = await createTestDatabase(this.postgres.adminUrl);
      this.database = { dialect: 'postgres', url: created.url };
      this.postgresPid = postmasterOnPort(this.postgres.port) ?? 0;
      if (!this.postgresPid) log('warning: could not find the PostgreSQL postmaster; its CPU will be n/a');
      log(`Herald's database: PostgreSQL on 127.0.0.1:${this.postgres.port}`);
    } else {
      this.database = { dialect: 'sqlite', path: this.databasePath };
    }
    if ((this.options.temporal ?? 'dev') === 'cluster') {
      log(`starting a Temporal cluster on PostgreSQL (temporal/cluster.ts), frontend on port ${temporalPort} ...`);
      this.cluster = await startClusterForBench({ port: temporalPort, log });
      this.temporalAddress = this.cluster.address;
      if (this.cluster.pids().length === 0) log('warning: could not find the Temporal server process(es); their resources will be n/a');
    } else {
      const mode = this.options.temporalDb ?? 'file';
      log(`starting the Temporal dev server on ${this.temporalAddress} (history: ${mode}) ...`);
      const dbFilename = join(this.dataDir, 'temporal.db');
      this.devServer = await startDevServer({
        port: temporalPort,
        ...(mode !== 'memory' && { dbFilename, sqlitePragmas: temporalDbPragmas[mode] }),
        namespace: 'default',
        log,
      });
      this.devServerPid = childrenNamed(process.pid, 'temporal')[0] ?? 0;
      if (!this.devServerPid) log('warning: could not find the temporal server process; its resources will be n/a');
    }

    // As `npm start` on a fresh data dir: it creates <dataDir>/payload-keys with one random key.
    this.payloadKeys = (this.options.codec ?? 'on') === 'on' ? loadOrCreatePayloadKeyFile(this.dataDir).value : undefined;
    log(`payload encryption: ${this.payloadKeys ? 'on (a fresh key in <data dir>/payload-keys, as npm start)' : 'off (BENCH_CODEC=off)'}`);
    const n = this.replicas;
    const named = (kind: string, i: number) => (n === 1 ? kind : `${kind}-${i + 1}`);
    log(`starting ${n === 1 ? 'the worker, the API, the accept-only API' : `${n} workers, ${n} APIs, ${n} accept-only APIs`} and the bare-Temporal worker ...`);
    // The accept rows leave thousands of executions running on purpose (their queue is never
    // polled); an orphan sweep asking Temporal about each of them mid-run would skew later rows.
    // The retention purge (hourly by default) is kept out of the measurements the same way.
    const quiet = (this.options.housekeeping ?? 'quiet') === 'quiet';
    const workerEnv = this.partEnv('worker', {
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      ...(quiet && { HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '86400', HERALD_RETENTION_SWEEP_INTERVAL_SECONDS: '86400' }),
    });
    if (!quiet) log('housekeeping as npm start: the orphan sweep and the retention purge on their default intervals');
    // The probe's variables go in after the allow list, which would drop them; the probe takes them out again.
    const probe = this.options.workerMemoryProbe && n === 1;
    if (this.options.workerMemoryProbe && n > 1) log('warning: the worker memory probe watches one worker; not loaded with replicas');
    const probeEnv = probe
      ? {
          BENCH_WORKER_MEMORY_FILE: workerMemoryFile(this.dataDir),
          ...(this.options.workerMaxCachedWorkflows !== undefined && { BENCH_WORKER_MAX_CACHED_WORKFLOWS: String(this.options.workerMaxCachedWorkflows) }),
        }
      : {};
    const probeModule = probe ? [pathToFileURL(join(repoRoot, 'bench/worker-memory-probe.ts')).href] : [];
    const workers = Array.from({ length: n }, (_, i) =>
      this.spawnPart(named('worker', i), 'worker', join(repoRoot, 'src/entry/worker.ts'), { ...workerEnv, ...probeEnv }, false, probeModule),
    );
    const bareEnv = {
      ...this.callerEnv(),
      TEMPORAL_ADDRESS: this.temporalAddress,
      BENCH_BARE_TASK_QUEUE: BARE_TASK_QUEUE,
      ...(this.payloadKeys && { HERALD_PAYLOAD_KEYS: this.payloadKeys }),
    };
    const bareWorker = this.spawnPart('bare-worker', 'bare-worker', join(repoRoot, 'bench/bare-worker.ts'), bareEnv, true);
    this.parts = { workers, apis: [], acceptApis: [], bareWorker };
    // The workers migrate the database first (on PostgreSQL they queue on an advisory lock); the APIs start once all poll.
    await Promise.all(
      workers.map((worker) =>
        waitFor(worker.child, worker.name, 120_000, (resolve) => {
          let seen = '';
          worker.child.stdout!.on('data', (chunk: Buffer) => {
            seen = (seen + chunk.toString()).slice(-4096);
            if (seen.includes('polling task queue')) resolve();
          });
        }),
      ),
    );
    const apis = this.apiPorts.map((port, i) =>
      this.spawnPart(named('api', i), 'api', join(repoRoot, 'src/entry/api.ts'), this.partEnv('api', { TEMPORAL_TASK_QUEUE: TASK_QUEUE, PORT: String(port) })),
    );
    const acceptApis = this.acceptApiPorts.map((port, i) =>
      this.spawnPart(
        named('accept-api', i),
        'accept-api',
        join(repoRoot, 'src/entry/api.ts'),
        this.partEnv('api', { TEMPORAL_TASK_QUEUE: UNPOLLED_TASK_QUEUE, PORT: String(port) }),
      ),
    );
    this.parts = { workers, apis, acceptApis, bareWorker };
    bareWorker.child.on('message', (message: { type: string; count?: number; at?: number; times?: number[] }) => {
      if (message.type !== 'finished') return;
      this.bareFinishTimes.push(...(message.times ?? []));
      this.bareFinished = { count: message.count!, at: message.at! };
      for (const listener of this.bareListeners) listener(message.count!, message.at!);
    });
    await Promise.all([
      ...apis.map((api, i) => httpReady(this.apiPorts[i]!, api.child, 60_000)),
      ...acceptApis.map((api, i) => httpReady(this.acceptApiPorts[i]!, api.child, 60_000)),
      waitFor(bareWorker.child, 'bare worker', 120_000, (resolve) => bareWorker.child.on('message', (m: { type: string }) => m.type === 'ready' && resolve())),
    ]);
    log('stack ready');
  }

  /** Every process of the stack the bench started, by name. */
  allParts(): Part[] {
    const { workers, apis, acceptApis, bareWorker } = this.parts;
    return [...(workers ?? []), ...(apis ?? []), ...(acceptApis ?? []), ...(bareWorker ? [bareWorker] : [])];
  }

  /** Resolves once the bare worker has finished `target` executions in total; returns when the last finished. */
  waitForBare(target: number, ms: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const done = (at: number | undefined) => {
        clearTimeout(timer);
        this.bareListeners.delete(listener);
        resolve(at);
      };
      const listener = (count: number, at: number) => count >= target && done(at);
      const timer = setTimeout(() => done(undefined), ms);
      this.bareListeners.add(listener);
      if (this.bareFinished.count >= target) done(this.bareFinished.at);
    });
  }

  async stop(): Promise<void> {
    const parts = this.allParts();
    const t0 = Date.now();
    await Promise.all(
      parts.map(async (part) => {
        await stopChild(part.child, 20_000);
        this.options.log(`  ${part.name} stopped after ${((Date.now() - t0) / 1000).toFixed(1)} s (${part.child.signalCode ?? `code ${part.child.exitCode}`})`);
      }),
    );
    await this.devServer?.teardown().catch(() => {});
    await this.cluster?.stop().catch((error: unknown) => this.options.log(`  could not stop the Temporal cluster: ${(error as Error).message}`));
    await this.postgres?.teardown().catch((error: unknown) => this.options.log(`  could not stop PostgreSQL: ${(error as Error).message}`));
    for (const log of this.logs) log.end();
    if (!this.options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
    else this.options.log(`kept the data and logs in ${this.dataDir}`);
  }
}
