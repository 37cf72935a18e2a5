// `npm start`: the embedded default as one supervised process group — the Temporal dev server
// (persisting to $HERALD_DATA_DIR/temporal.db, UI on TEMPORAL_UI_PORT), a worker and the API.
// Each of the three is restarted when it dies; "ready" is printed once the API answers
// /health/ready and the server lists the worker among its task queue's pollers.
// Payloads are encrypted: with HERALD_PAYLOAD_KEYS, or else a key kept in $HERALD_DATA_DIR/payload-keys.
// Each child gets only the environment it needs (child-environments.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config/env';
import { openMigratedDatabase } from '../db/database';
import { CODEC_PATH } from '../api/middlewares/codec-cors';
import { launchDevServer, resolveDevServerExecutable, type DevServerProcess, type LaunchOptions } from '../../temporal/dev-server';
import { connect } from '../temporal-client/connection';
import { childEnvironment, senderVariables, type ChildPart } from './child-environments';
import { configureHousekeepingSchedules } from './configure-schedules';
import { loadConfigOrExit } from './load-config-or-exit';
import { loadOrCreatePayloadKeyFile } from './payload-key-file';
import { loadOrCreateTrackingSecretFile } from './tracking-secret-file';
import { logger } from './logger';
import { taskQueuePollers, workerIdentity } from './readiness';
import { stopChild } from './stop-child';

const log = logger('herald');
const config = loadConfigOrExit();
mkdirSync(config.dataDir, { recursive: true });
await (await openMigratedDatabase(config.database)).destroy();

// Set for both children on top of what they inherit; the key is a secret and is never printed.
const childSettings: Record<string, string | undefined> = {};
if (config.payloadKeys) {
  log(`payload encryption: on, with HERALD_PAYLOAD_KEYS (new payloads use key "${config.payloadKeys[0]!.id}")`);
} else {
  try {
    const keyFile = loadOrCreatePayloadKeyFile(config.dataDir);
    childSettings.HERALD_PAYLOAD_KEYS = keyFile.value;
    log(`payload encryption: on, with the key in ${keyFile.path}${keyFile.created ? ' (new; keep it with the data: histories written with it need it)' : ''}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`[herald] ${error.message}`);
    process.exit(78);
  }
}

// Engagement tracking: both children sign and verify links with one key (HERALD_TRACKING_SECRET, or
// else one kept in $HERALD_DATA_DIR/tracking-secret) under one public address (the worker has no
// HOST or PORT to derive it from).
childSettings.HERALD_PUBLIC_URL = config.publicUrl;
if (config.tracking.secrets.length === 0) {
  try {
    const secretFile = loadOrCreateTrackingSecretFile(config.dataDir);
    childSettings.HERALD_TRACKING_SECRET = secretFile.value;
    log(
      `engagement tracking: links under ${config.publicUrl}, signed with the key in ${secretFile.path}${secretFile.created ? ' (new; keep it with the data: links already sent need it)' : ''}`,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`[herald] ${error.message}`);
    process.exit(78);
  }
}

// The Temporal UI decodes payloads in the browser through the API's codec endpoint.
const browserHost = ['0.0.0.0', '::', '[::]'].includes(config.http.host)
  ? '127.0.0.1'
  : config.http.host.includes(':') && !config.http.host.startsWith('[')
    ? `[${config.http.host}]`
    : config.http.host;
const codecEndpoint = `http://${browserHost}:${config.http.port}${CODEC_PATH}`;

let stopping = false;
let devServer: DevServerProcess | undefined;
/** The next restart's delay: a server that keeps dying backs off to 30 s; one that ran a minute starts over. */
let devServerRestartDelayMs = 500;

/**
 * Restarts the dev server when it dies, on the same ports and the same temporal.db: what it had
 * committed is there again, and the worker's and the API's connections reconnect by themselves
 * (the API answers triggers 503 + Retry-After meanwhile).
 */
function superviseDevServer(server: DevServerProcess, options: LaunchOptions): void {
  const startedAt = Date.now();
  void server.exited.then((exit) => {
    if (stopping) return;
    const delayMs = Date.now() - startedAt > 60_000 ? 500 : devServerRestartDelayMs;
    devServerRestartDelayMs = Math.min(delayMs * 2, 30_000);
    log(
      `the Temporal dev server exited (${exit.signal ?? `code ${exit.code}`}); restarting it on 127.0.0.1:${options.port} with ${options.dbFilename} in ${delayMs} ms`,
    );
    setTimeout(() => {
      if (stopping) return;
      const next = launchDevServer(options);
      devServer = next;
      superviseDevServer(next, options);
      next.ready.then(
        () => {
          if (stopping) return;
          log(`the Temporal dev server is back (pid ${next.pid}); the worker and the API reconnect by themselves`);
          void announceReadiness();
        },
        (error: Error) => !stopping && log(`the restarted Temporal dev server did not come up: ${error.message}`),
      );
    }, delayMs);
  });
}

if (config.temporal.externalAddress) {
  log(`TEMPORAL_ADDRESS is set: using the cluster at ${config.temporal.address} instead of the embedded dev server`);
} else {
  const dbFilename = join(config.dataDir, 'temporal.db');
  log(`starting the Temporal dev server on 127.0.0.1:${config.temporal.port} (history in ${dbFilename}) ...`);
  try {
    const options: LaunchOptions = {
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
      uiCodecEndpoint: codecEndpoint,
      dbFilename,
      namespace: config.temporal.namespace,
      executablePath: await resolveDevServerExecutable(config.temporal.cliPath, log),
    };
    devServer = launchDevServer(options);
    await devServer.ready;
    superviseDevServer(devServer, options);
  } catch (error) {
    console.error(
      `[herald] the Temporal dev server did not start: ${(error as Error).message}\nIs port ${config.temporal.port} or ${config.temporal.uiPort} in use? Set TEMPORAL_PORT / TEMPORAL_UI_PORT, or TEMPORAL_ADDRESS for an existing cluster.`,
    );
    await devServer?.stop(1_000);
    process.exit(1);
  }
  childSettings.TEMPORAL_ADDRESS = `127.0.0.1:${config.temporal.port}`;
  log(`Temporal Web UI: http://127.0.0.1:${config.temporal.uiPort} (decodes payloads through ${codecEndpoint})`);
  if (config.http.apiKeys.length > 0)
    log('HERALD_API_KEYS is set: the Web UI sends no API key, so it shows payloads encrypted (docs/security.md, "Payload encryption and the codec endpoint")');
}

// One machine, one configuration: the settings in this environment are the deployment's, so
// apply the schedules' intervals here (the deploy step `npm run schedules` does it elsewhere).
try {
  await configureHousekeepingSchedules(loadConfig({ ...process.env, ...childSettings }), log);
} catch (error) {
  console.error(`[herald] configuring the Temporal schedules failed: ${(error as Error).message}`);
  await devServer?.stop();
  process.exit(1);
}

interface Supervised {
  name: ChildPart;
  env: NodeJS.ProcessEnv;
  script: string;
  child?: ChildProcess;
  restartDelayMs: number;
}

const entryDir = fileURLToPath(new URL('.', import.meta.url));
const workerEnv = childEnvironment('worker', process.env, childSettings);
// The API reviews channel configurations against the worker's provider credentials by name only:
// which of them are set for the worker, never their values.
const senderEnvPresent = senderVariables(process.env).filter((name) => Boolean(workerEnv[name]?.trim()));
const parts: Supervised[] = [
  { name: 'worker', env: workerEnv, script: join(entryDir, 'worker.ts'), restartDelayMs: 1000 },
  // The API learns which provider delivers from HERALD_EMAIL_PROVIDER; the provider's secret stays with the worker.
  {
    name: 'api',
    env: childEnvironment('api', process.env, {
      ...childSettings,
      HERALD_EMAIL_PROVIDER: config.email.provider,
      HERALD_SMS_PROVIDER: config.sms.provider,
      HERALD_PUSH_OUTBOX: String(config.push.outboxDefault),
      HERALD_SENDER_ENV_PRESENT: senderEnvPresent.join(','),
    }),
    script: join(entryDir, 'api.ts'),
    restartDelayMs: 1000,
  },
];

function launch(part: Supervised): void {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', part.script], { env: part.env, stdio: 'inherit' });
  part.child = child;
  void announceReadiness();
  child.on('exit', (code, signal) => {
    part.child = undefined;
    if (stopping) return;
    if (code === 78) {
      log(`${part.name} refused its configuration; stopping everything`);
      void shutdown(1);
      return;
    }
    // A part that ran for a while gets a fresh backoff; one that keeps crashing backs off to 30 s.
    part.restartDelayMs = Date.now() - startedAt > 60_000 ? 1000 : Math.min(part.restartDelayMs * 2, 30_000);
    log(`${part.name} exited (${signal ?? `code ${code}`}); restarting in ${part.restartDelayMs} ms`);
    setTimeout(() => !stopping && launch(part), part.restartDelayMs).unref();
  });
}

async function shutdown(exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping worker and API ...');
  await Promise.all(
    parts.map(async (part) => {
      if (!part.child) return;
      await stopChild(part.child, 15_000);
    }),
  );
  // The current one, also when it is being restarted: a pending restart sees `stopping` and stays off.
  if (devServer) {
    log('stopping the Temporal dev server ...');
    await devServer.stop();
  }
  log('stopped');
  process.exit(exitCode);
}

const apiUrl = `http://${browserHost}:${config.http.port}`;
let temporalConnection: Promise<Connection> | undefined;
let readinessRun = 0;
let announced = false;

/** Whether the API answers /health/ready, and which pollers the task queue has if the worker is one of them. */
async function readiness(): Promise<{ api: boolean; pollers?: string[] }> {
  const api = fetch(`${apiUrl}/health/ready`, { signal: AbortSignal.timeout(3_000) }).then(
    (response) => response.status === 200,
    () => false,
  );
  const pid = parts[0]!.child?.pid;
  // Never closed: it lives as long as this process, so no retry of the client outlives it.
  temporalConnection ??= connect(config.temporal).catch((error: unknown) => {
    temporalConnection = undefined;
    throw error;
  });
  const pollers =
    pid === undefined
      ? undefined
      : temporalConnection
          .then((connection) => taskQueuePollers(connection, config.temporal.namespace, config.temporal.taskQueue))
          .then(
            (identities) => (identities.includes(workerIdentity(pid)) ? identities : undefined),
            () => undefined,
          );
  return { api: await api, pollers: await pollers };
}

/**
 * Prints "ready" once the API is ready and the Temporal server lists this worker as a poller of
 * its task queue: only then does a trigger run at once. Again after any part came back.
 */
async function announceReadiness(): Promise<void> {
  const run = ++readinessRun;
  const since = Date.now();
  let hinted = false;
  while (!stopping && run === readinessRun) {
    const { api, pollers } = await readiness();
    if (stopping || run !== readinessRun) return;
    if (api && pollers) {
      log(
        `${announced ? 'ready again' : 'ready'}: API ${apiUrl}, worker polling task queue ${config.temporal.taskQueue} (${pollers.length} poller${pollers.length === 1 ? '' : 's'})`,
      );
      announced = true;
      return;
    }
    if (!hinted && Date.now() - since > 60_000) {
      hinted = true;
      log(
        `not ready after a minute: ${[!api && `the API's /health/ready does not answer 200`, !pollers && 'the worker is not polling its task queue'].filter(Boolean).join('; ')} (still waiting)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
parts.forEach(launch);
log(`API on http://${config.http.host}:${config.http.port} — docs at /docs. Ctrl-C stops everything.`);
