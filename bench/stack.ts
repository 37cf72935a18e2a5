// The embedded stack, started the way `npm start` starts it: the Temporal dev server (through
// temporal/dev-server.ts, persisting to <dataDir>/temporal.db), then the worker and the API as
// separate `node --import tsx` processes. On top of that the benchmark adds:
// - a second API process on a task queue no worker polls, to time the accept path on its own;
// - the bare-Temporal baseline worker (bench/bare-worker.ts) on its own task queue.
// Like `npm start`, the worker and the API get their environment through the allow lists of
// src/entry/child-environments.ts, and payloads are encrypted with a fresh random key that
// src/entry/payload-key-file.ts writes into the data dir (BENCH_CODEC=off runs without a codec).
// The bare worker and the bench's own Temporal clients use the same data converter.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { durableWalPragmas, startDevServer } from '../temporal/dev-server';
import { childrenNamed } from './proc';
import { childEnvironment, type ChildPart } from '../src/entry/child-environments';
import { loadOrCreatePayloadKeyFile } from '../src/entry/payload-key-file';
import { stopChild } from '../src/entry/stop-child';

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

export interface StackOptions {
  temporalPort: number;
  apiPort: number;
  acceptApiPort: number;
  /** Write V8 CPU profiles of the worker and API processes into this directory. */
  cpuProfDir?: string;
  keepData?: boolean;
  /** How the dev server keeps history; see temporalDbPragmas. Default 'file', exactly as `npm start`. */
  temporalDb?: TemporalDbMode;
  /**
   * 'on' (default, as `npm start`): a fresh random AES-GCM payload key in <dataDir>/payload-keys,
   * passed as HERALD_PAYLOAD_KEYS to the worker, the APIs, the bare worker and the bench's clients.
   * 'off': no HERALD_PAYLOAD_KEYS anywhere, Temporal's default data converter.
   */
  codec?: CodecMode;
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

export class Stack {
  readonly dataDir: string;
  readonly databasePath: string;
  readonly temporalAddress: string;
  temporalPid = 0;
  parts: Record<'worker' | 'api' | 'acceptApi' | 'bareWorker', Part> = {} as never;
  private devServer?: TestWorkflowEnvironment;
  private logs: WriteStream[] = [];
  private bareListeners = new Set<(count: number, at: number) => void>();
  bareFinished = { count: 0, at: 0 };
  /** HERALD_PAYLOAD_KEYS of this stack (a throwaway secret: never print it); undefined with the codec off. */
  payloadKeys: string | undefined;

  private constructor(readonly options: StackOptions) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
    this.databasePath = join(this.dataDir, 'herald.db');
    this.temporalAddress = `127.0.0.1:${options.temporalPort}`;
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

  /**
   * The caller's environment without its Herald/Temporal/Resend/database setup: outbox provider,
   * no API keys, the embedded SQLite database (the bench reads herald.db directly).
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
    const shared = { HERALD_DATA_DIR: this.dataDir, TEMPORAL_ADDRESS: this.temporalAddress, TEMPORAL_NAMESPACE: 'default', ...(this.payloadKeys && { HERALD_PAYLOAD_KEYS: this.payloadKeys }) };
    // start.ts tells the API which provider delivers; here always the outbox.
    const perPart = part === 'api' ? { HOST: '127.0.0.1', HERALD_EMAIL_PROVIDER: 'outbox' } : {};
    return childEnvironment(part, this.callerEnv(), { ...shared, ...perPart, ...set });
  }

  private spawnPart(name: string, script: string, env: NodeJS.ProcessEnv, ipc = false): Part {
    const prof = this.options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(this.options.cpuProfDir, name)}`] : [];
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', script], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] });
    const log = createWriteStream(join(this.dataDir, `${name}.log`));
    this.logs.push(log);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    return { name, child, pid: child.pid! };
  }

  private async boot(): Promise<void> {
    const { log, temporalPort, apiPort, acceptApiPort } = this.options;
    log(`data in ${this.dataDir}`);
    const mode = this.options.temporalDb ?? 'file';
    log(`starting the Temporal dev server on ${this.temporalAddress} (history: ${mode}) ...`);
    const dbFilename = join(this.dataDir, 'temporal.db');
    this.devServer = await startDevServer({ port: temporalPort, ...(mode !== 'memory' && { dbFilename, sqlitePragmas: temporalDbPragmas[mode] }), namespace: 'default', log });
    this.temporalPid = childrenNamed(process.pid, 'temporal')[0] ?? 0;
    if (!this.temporalPid) log('warning: could not find the temporal server process; its resources will be n/a');

    // As `npm start` on a fresh data dir: it creates <dataDir>/payload-keys with one random key.
    this.payloadKeys = (this.options.codec ?? 'on') === 'on' ? loadOrCreatePayloadKeyFile(this.dataDir).value : undefined;
    log(`payload encryption: ${this.payloadKeys ? 'on (a fresh key in <data dir>/payload-keys, as npm start)' : 'off (BENCH_CODEC=off)'}`);
    log('starting the worker, the API, the accept-only API and the bare-Temporal worker ...');
    // The accept rows leave thousands of executions running on purpose (their queue is never
    // polled); an orphan sweep asking Temporal about each of them mid-run would skew later rows.
    // The retention purge (hourly by default) is kept out of the measurements the same way.
    const worker = this.spawnPart('worker', join(repoRoot, 'src/entry/worker.ts'), this.partEnv('worker', { TEMPORAL_TASK_QUEUE: TASK_QUEUE, HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '86400', HERALD_RETENTION_SWEEP_INTERVAL_SECONDS: '86400' }));
    const bareEnv = { ...this.callerEnv(), TEMPORAL_ADDRESS: this.temporalAddress, BENCH_BARE_TASK_QUEUE: BARE_TASK_QUEUE, ...(this.payloadKeys && { HERALD_PAYLOAD_KEYS: this.payloadKeys }) };
    const bareWorker = this.spawnPart('bare-worker', join(repoRoot, 'bench/bare-worker.ts'), bareEnv, true);
    // The worker migrates the database first; the APIs start once it is polling.
    await waitFor(worker.child, 'worker', 120_000, (resolve) => {
      let seen = '';
      worker.child.stdout!.on('data', (chunk: Buffer) => {
        seen = (seen + chunk.toString()).slice(-4096);
        if (seen.includes('polling task queue')) resolve();
      });
    });
    const api = this.spawnPart('api', join(repoRoot, 'src/entry/api.ts'), this.partEnv('api', { TEMPORAL_TASK_QUEUE: TASK_QUEUE, PORT: String(apiPort) }));
    const acceptApi = this.spawnPart('accept-api', join(repoRoot, 'src/entry/api.ts'), this.partEnv('api', { TEMPORAL_TASK_QUEUE: UNPOLLED_TASK_QUEUE, PORT: String(acceptApiPort) }));
    this.parts = { worker, api, acceptApi, bareWorker };
    bareWorker.child.on('message', (message: { type: string; count?: number; at?: number }) => {
      if (message.type !== 'finished') return;
      this.bareFinished = { count: message.count!, at: message.at! };
      for (const listener of this.bareListeners) listener(message.count!, message.at!);
    });
    await Promise.all([
      httpReady(apiPort, api.child, 60_000),
      httpReady(acceptApiPort, acceptApi.child, 60_000),
      waitFor(bareWorker.child, 'bare worker', 120_000, (resolve) => bareWorker.child.on('message', (m: { type: string }) => m.type === 'ready' && resolve())),
    ]);
    log('stack ready');
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
    const parts = Object.values(this.parts);
    const t0 = Date.now();
    await Promise.all(
      parts.map(async (part) => {
        await stopChild(part.child, 20_000);
        this.options.log(`  ${part.name} stopped after ${((Date.now() - t0) / 1000).toFixed(1)} s (${part.child.signalCode ?? `code ${part.child.exitCode}`})`);
      }),
    );
    await this.devServer?.teardown().catch(() => {});
    for (const log of this.logs) log.end();
    if (!this.options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
    else this.options.log(`kept the data and logs in ${this.dataDir}`);
  }
}
