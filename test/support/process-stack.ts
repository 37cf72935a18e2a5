import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { openMigratedDatabase, type DatabaseTarget } from '../../src/db/database';
import { createTestDatabase } from './postgres-server';
import { freePort } from './free-port';

export { freePort };
import { TEST_START_WAIT_MS } from './test-start-wait';
import { requestJson, type ApiResponse } from './http-json';

/**
 * Herald as real processes, the way `npm start` runs it: `node --import tsx src/entry/worker.ts`
 * and `node --import tsx src/entry/api.ts`, configured by the environment only. Fault tests kill
 * them with SIGKILL and start them again on the same data directory, task queue and port.
 *
 * No process outlives its test file: `stop()` (call it in afterAll) ends every child and waits
 * for it, an `exit` hook kills what is left if the test process ends early, and every child
 * exits by itself when its stdin pipe closes, i.e. when the test process dies even by SIGKILL.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const WORKER_SCRIPT = join(repoRoot, 'src/entry/worker.ts');
const API_SCRIPT = join(repoRoot, 'src/entry/api.ts');

/**
 * Preloaded into every child: exit when the parent's end of the stdin pipe closes. Worker
 * threads (the SDK's workflow thread) run `--import` too, with a stdin that ends at once: main thread only.
 */
const EXIT_WITH_PARENT =
  'data:text/javascript,' +
  encodeURIComponent(
    "import{isMainThread}from'node:worker_threads';if(isMainThread){process.stdin.on('end',()=>process.exit(70));process.stdin.on('error',()=>process.exit(70));process.stdin.resume();process.stdin.unref?.();}",
  );

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export interface ManagedProcessOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  /** Ready once a line of output contains this text ... */
  readyLine?: string;
  /** ... or once this resolves true (polled every 100 ms). */
  readyProbe?: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Print the child's output as it comes (HERALD_FAULTS_VERBOSE=1 turns it on for all). */
  verbose?: boolean;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the test asked for it (kill/stop), false for a crash. */
  expected: boolean;
}

/** One child process that can be started, killed with SIGKILL, stopped and started again. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private expectingExit = false;
  private readonly lines: string[] = [];
  /** Every exit so far, in order. */
  readonly exits: ProcessExit[] = [];
  /** How many times the process was started. */
  starts = 0;

  constructor(private readonly options: ManagedProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last output lines (stdout and stderr), for failure messages. */
  output(last = 40): string {
    return this.lines.slice(-last).join('\n');
  }

  /** Exits the test did not cause: a crash of the process. */
  unexpectedExits(): ProcessExit[] {
    return this.exits.filter((exit) => !exit.expected);
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const verbose = this.options.verbose ?? process.env.HERALD_FAULTS_VERBOSE === '1';
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, this.options.script], {
      cwd: repoRoot,
      env: this.options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    track(child);
    this.child = child;
    this.expectingExit = false;
    this.starts += 1;
    let readyLineSeen = false;
    let exited: ProcessExit | undefined;
    const partial = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = partial[stream] + chunk.toString('utf8');
      const complete = text.split('\n');
      partial[stream] = complete.pop() ?? '';
      for (const line of complete) {
        if (!line.trim()) continue;
        if (this.options.readyLine !== undefined && line.includes(this.options.readyLine)) readyLineSeen = true;
        this.lines.push(`[${this.name}#${this.starts}] ${line}`);
        if (this.lines.length > 500) this.lines.splice(0, this.lines.length - 500);
        if (verbose) console.log(`[${this.name}#${this.starts}] ${line}`);
      }
    };
    child.stdout!.on('data', onData('stdout'));
    child.stderr!.on('data', onData('stderr'));
    child.once('exit', (code, signal) => {
      exited = { code, signal, expected: this.expectingExit };
      this.exits.push(exited);
      if (!exited.expected) this.lines.push(`[${this.name}#${this.starts}] exited unexpectedly (${signal ?? `code ${code}`})`);
    });

    const timeoutMs = this.options.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`${this.name} exited (${exited.signal ?? `code ${exited.code}`}) before it was ready:\n${this.output()}`);
      if (readyLineSeen || (this.options.readyProbe && (await this.options.readyProbe()))) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output()}`);
      }
      await sleep(100);
    }
  }

  /** SIGKILL (or another signal) and wait until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectingExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([gone, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      if (signal === 'SIGKILL') throw new Error(`${this.name} (pid ${child.pid}) survived SIGKILL for ${timeoutMs} ms`);
      child.kill('SIGKILL');
      await gone;
    }
  }

  /** A graceful stop (SIGTERM), then SIGKILL if it takes longer than `timeoutMs`. */
  stop(timeoutMs = 10_000): Promise<void> {
    return this.kill('SIGTERM', timeoutMs);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

export type { ApiResponse };

export interface ProcessStackOptions {
  /** host:port of the Temporal frontend both processes use. */
  temporalAddress: string;
  /** A different address for the API only (e.g. through a fault proxy). */
  apiTemporalAddress?: string;
  /** For worker and API. */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** Start the processes now (default); otherwise call `worker.start()` / `api.start()`. */
  start?: boolean;
  readyTimeoutMs?: number;
}

export interface ProcessStack {
  dataDir: string;
  databasePath: string;
  /** Where the processes keep their data: the SQLite file, or on the PostgreSQL suite a database of its own. */
  database: DatabaseTarget;
  taskQueue: string;
  apiPort: number;
  baseUrl: string;
  worker: ManagedProcess;
  api: ManagedProcess;
  request<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Polls the execution-status API until the execution leaves `running`. */
  waitForExecution(executionId: string, timeoutMs?: number): Promise<any>;
  /** Ends both processes (SIGTERM, then SIGKILL) and removes the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A worker and an API as child processes on a fresh data directory, a unique task queue and a
 * fixed loopback port (so the API comes back at the same address after a restart).
 */
/** The PostgreSQL suite's server, when this is that suite and runs under vitest. */
function postgresAdminUrl(): string | undefined {
  try {
    return inject('postgresAdminUrl') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a Herald child process gets: the few variables a process needs from the test's own
 * environment, and the settings a worker and an API must share. Payloads are encrypted, as under
 * `npm start`, with a fresh key that every process of the stack shares.
 */
export function heraldChildEnv(stack: { dataDir: string; temporalAddress: string; taskQueue: string; payloadKeyId: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.TMPDIR && { TMPDIR: process.env.TMPDIR }),
    ...(process.env.XDG_CACHE_HOME && { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }),
    NODE_ENV: 'test',
    HERALD_DATA_DIR: stack.dataDir,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    HOST: '127.0.0.1',
    HERALD_PAYLOAD_KEYS: `${stack.payloadKeyId}:${randomBytes(32).toString('base64')}`,
    HERALD_START_WAIT_MS: TEST_START_WAIT_MS,
  };
}

/** An API is ready once /health answers 200. */
export function apiAnswers(baseUrl: string): () => Promise<boolean> {
  return async () => {
    try {
      return (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(3_000) })).status === 200;
    } catch {
      return false;
    }
  };
}

/**
 * Polls the execution-status API until the execution leaves `running`. A crashed process cannot
 * finish anything, so a crash among `processes` is reported, with its last words.
 */
export function waitForExecution(
  request: (method: string, path: string) => Promise<ApiResponse>,
  executionId: string,
  timeoutMs: number,
  processes: ManagedProcess[],
): Promise<any> {
  let last: unknown;
  return waitFor(
    () => `execution ${executionId} to finish (last seen: ${JSON.stringify(last)})`,
    async () => {
      for (const part of processes) {
        if (!part.running && part.unexpectedExits().length > 0)
          throw new Error(`${part.name} crashed while waiting for execution ${executionId}:\n${part.output()}`);
      }
      const { status, body } = await request('GET', `/v1/executions/${executionId}`);
      last = body;
      return status === 200 && body.status !== 'running' ? body : undefined;
    },
    timeoutMs,
    200,
  );
}

export async function startProcessStack(options: ProcessStackOptions): Promise<ProcessStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-faults-'));
  const taskQueue = `herald-faults-${randomUUID()}`;
  const apiPort = await freePort();
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  // The PostgreSQL suite (HERALD_TEST_DATABASE=postgres) gives the stack a fresh database, unless the test brings DATABASE_URL.
  const ownDatabase = !options.env?.DATABASE_URL && postgresAdminUrl() ? await createTestDatabase(postgresAdminUrl()!) : undefined;
  const databaseUrl = options.env?.DATABASE_URL ?? ownDatabase?.url;
  const database: DatabaseTarget = databaseUrl ? { dialect: 'postgres', url: databaseUrl } : { dialect: 'sqlite', path: join(dataDir, 'herald.db') };

  const baseEnv: NodeJS.ProcessEnv = {
    ...heraldChildEnv({ dataDir, temporalAddress: options.temporalAddress, taskQueue, payloadKeyId: 'faults' }),
    PORT: String(apiPort),
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    ...options.env,
  };

  const request = (method: string, path: string, body?: unknown) => requestJson(baseUrl, method, path, body, {}, 15_000);

  const worker = new ManagedProcess({
    name: 'worker',
    script: WORKER_SCRIPT,
    env: { ...baseEnv, ...options.workerEnv },
    readyTimeoutMs,
    // Logged once the worker is created, right before it starts polling.
    readyLine: 'polling task queue',
  });
  const api = new ManagedProcess({
    name: 'api',
    script: API_SCRIPT,
    env: { ...baseEnv, ...(options.apiTemporalAddress && { TEMPORAL_ADDRESS: options.apiTemporalAddress }), ...options.apiEnv },
    readyTimeoutMs,
    readyProbe: apiAnswers(baseUrl),
  });

  let stopped = false;
  const stack: ProcessStack = {
    dataDir,
    databasePath: join(dataDir, 'herald.db'),
    database,
    taskQueue,
    apiPort,
    baseUrl,
    worker,
    api,
    request,
    waitForExecution: (executionId, timeoutMs = 60_000) => waitForExecution(request, executionId, timeoutMs, [worker, api]),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([api.stop(), worker.stop()]);
      await ownDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  // As `npm start` does: migrate once, before the processes start. Worker and API migrating the
  // same fresh file at once race (kysely takes no cross-process lock on SQLite) and one of them
  // dies with 'table "campaigns" already exists'.
  await (await openMigratedDatabase(stack.database)).destroy();

  if (options.start !== false) {
    try {
      // The worker bundles the workflows (seconds); the API is ready sooner.
      await Promise.all([worker.start(), api.start()]);
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  return stack;
}
