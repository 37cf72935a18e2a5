import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { pickFreePorts } from './cluster/free-ports';
import { prepareNamespace } from './cluster/namespace';
import { postgresTarget, type PostgresTarget } from './cluster/postgres-target';
import { dropTemporalDatabases, setupTemporalSchema } from './cluster/schema';
import { resolveTemporalServerBinaries, TEMPORAL_SERVER_VERSION, type TemporalServerBinaries } from './server-binary';

/** temporal/cluster/herald.yaml: the server's config template (`--env herald` in this directory). */
const CONFIG_DIR = fileURLToPath(new URL('./cluster', import.meta.url));
const CONFIG_ENV = 'herald';

export interface TemporalClusterOptions {
  /** A PostgreSQL role that may create databases, e.g. `postgres://herald@127.0.0.1:5432/postgres`. */
  postgresAdminUrl: string;
  /** The two databases the cluster creates; default `temporal_<random>` and `temporal_visibility_<random>`. */
  database?: string;
  visibilityDatabase?: string;
  /** Created with Herald's search attributes; default `default`, as on the dev server. */
  namespace?: string;
  /** The frontend's gRPC port; default a free one. The other services get free ports too. */
  frontendPort?: number;
  /** The server's log level (its log goes to `logFile`); default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long a start (or restart) may take until the namespace accepts workflows; default 120 s. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface TemporalCluster {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** The server's stdout and stderr, appended across restarts. */
  logFile: string;
  /** Stops the server process (SIGTERM, SIGKILL after `timeoutMs`); the databases stay. */
  stop(timeoutMs?: number): Promise<void>;
  /** Kills the server process with SIGKILL, as a host failure or the OOM killer would; the databases stay. */
  crash(): Promise<void>;
  /** Starts the server again on the same ports and databases; resolves once it accepts workflows. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops the server, drops its databases and removes its log directory. Safe to call twice. */
  teardown(): Promise<void>;
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

/**
 * A real Temporal cluster, the server production runs (v1.29.1, built from source by
 * server-binary.ts), on PostgreSQL: all four services in one `temporal-server` child process, the
 * schema set up by `temporal-sql-tool`, the namespace and Herald's search attributes registered.
 * Unlike the CLI's dev server nothing is in memory and nothing is preconfigured: it is the same code
 * path as a self-hosted deployment (deploy/compose.yaml), on one host.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = options.log ?? console.log;
  const namespace = options.namespace ?? 'default';
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const binaries = resolveTemporalServerBinaries(log);
  const suffix = randomBytes(5).toString('hex');
  const target = postgresTarget(
    options.postgresAdminUrl,
    options.database ?? `temporal_${suffix}`,
    options.visibilityDatabase ?? `temporal_visibility_${suffix}`,
  );
  setupTemporalSchema(binaries, target, log);

  // Fixed for the cluster's life: after a restart, clients and the membership table find the services where they were.
  // Per service a gRPC and a membership port, and the frontend's HTTP API.
  const [picked, ...servicePorts] = await pickFreePorts(SERVICES.length * 2 + 1);
  const frontendPort = options.frontendPort ?? picked!;
  const address = `127.0.0.1:${frontendPort}`;
  const logDir = mkdtempSync(join(tmpdir(), 'herald-temporal-cluster-'));
  const logFile = join(logDir, 'temporal-server.log');
  const env = serverEnvironment(target, frontendPort, servicePorts, options.logLevel ?? 'warn');

  let child: ChildProcess | undefined;
  let tornDown = false;
  const endServer = async (signal: NodeJS.Signals, killAfterMs: number) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => running.kill('SIGKILL'), killAfterMs);
    await gone;
    clearTimeout(timer);
  };
  const cluster: TemporalCluster = {
    address,
    namespace,
    logFile,
    async start() {
      if (child) throw new Error(`the Temporal server is already running (pid ${child.pid})`);
      const started = spawnServer(binaries, env, logFile);
      child = started;
      // A server that dies while starting ends the wait at once instead of at the deadline.
      const died = new AbortController();
      started.once('exit', (code, signal) => died.abort(new Error(`temporal-server exited (${signal ?? `code ${code}`}) before it was ready`)));
      try {
        await waitUntilReady(address, namespace, readyTimeoutMs, died.signal);
      } catch (error) {
        await cluster.stop();
        throw new Error(
          `${(died.signal.reason as Error | undefined)?.message ?? (error as Error).message}; the end of its log (${logFile}):\n${tail(logFile)}`,
        );
      }
    },
    stop(timeoutMs = 30_000) {
      return endServer('SIGTERM', timeoutMs);
    },
    crash() {
      return endServer('SIGKILL', 0);
    },
    async restart() {
      await cluster.stop();
      await cluster.start();
    },
    async teardown() {
      if (tornDown) return;
      tornDown = true;
      await cluster.stop();
      try {
        dropTemporalDatabases(binaries, target);
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    },
  };
  killOnExit(() => child);
  log(
    `Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL ${target.host}:${target.port} (${target.database}, ${target.visibilityDatabase}), frontend ${address}, log ${logFile}`,
  );
  try {
    await cluster.start();
  } catch (error) {
    // The databases go; the log stays, since the error names it.
    await cluster.stop();
    try {
      dropTemporalDatabases(binaries, target);
    } catch {
      // the error that matters is the start's
    }
    throw error;
  }
  return cluster;
}

/** The values temporal/cluster/herald.yaml reads; the password only ever travels this way. */
function serverEnvironment(target: PostgresTarget, frontendPort: number, servicePorts: number[], logLevel: string): NodeJS.ProcessEnv {
  const [frontendMembership, historyPort, historyMembership, matchingPort, matchingMembership, workerPort, workerMembership, frontendHttp] =
    servicePorts.map(String);
  return {
    ...process.env,
    HERALD_TEMPORAL_LOG_LEVEL: logLevel,
    HERALD_TEMPORAL_DB_ADDRESS: `${target.host}:${target.port}`,
    HERALD_TEMPORAL_DB_USER: target.user,
    HERALD_TEMPORAL_DB_PASSWORD: target.password,
    HERALD_TEMPORAL_DB: target.database,
    HERALD_TEMPORAL_VISIBILITY_DB: target.visibilityDatabase,
    HERALD_TEMPORAL_FRONTEND_PORT: String(frontendPort),
    HERALD_TEMPORAL_FRONTEND_MEMBERSHIP_PORT: frontendMembership,
    HERALD_TEMPORAL_FRONTEND_HTTP_PORT: frontendHttp,
    HERALD_TEMPORAL_HISTORY_PORT: historyPort,
    HERALD_TEMPORAL_HISTORY_MEMBERSHIP_PORT: historyMembership,
    HERALD_TEMPORAL_MATCHING_PORT: matchingPort,
    HERALD_TEMPORAL_MATCHING_MEMBERSHIP_PORT: matchingMembership,
    HERALD_TEMPORAL_WORKER_PORT: workerPort,
    HERALD_TEMPORAL_WORKER_MEMBERSHIP_PORT: workerMembership,
  };
}

function spawnServer(binaries: TemporalServerBinaries, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // --root and --config are joined by the server; an absolute --config would be made relative to --root.
    const args = ['--root', dirname(CONFIG_DIR), '--config', basename(CONFIG_DIR), '--env', CONFIG_ENV, '--allow-no-auth', 'start'];
    return spawn(binaries.server, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child has its own copy
  }
}

/** Ready means what Herald needs: the frontend answers and the namespace takes workflows with Herald's search attributes. */
async function waitUntilReady(address: string, namespace: string, timeoutMs: number, abort: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  while (!(await portOpen(host, port))) {
    abort.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`the Temporal frontend at ${address} did not open within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Short attempts, so a server that dies meanwhile is noticed within seconds.
  let connection: Connection | undefined;
  while (!connection) {
    abort.throwIfAborted();
    try {
      connection = await Connection.connect({ address, connectTimeout: 5_000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
  try {
    await prepareNamespace(connection, namespace, Math.max(1_000, deadline - Date.now()), abort);
  } finally {
    await connection.close();
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

/** A server left running by a test process that ends without teardown would hold its ports and databases. */
function killOnExit(current: () => ChildProcess | undefined): void {
  process.once('exit', () => current()?.kill('SIGKILL'));
}

/** The end of the server's log, each line cut short: its errors carry long Go stack traces. */
function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines)
      .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
      .join('\n');
  } catch {
    return '(no log)';
  }
}
