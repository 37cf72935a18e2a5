// `npm start`: the embedded default as one supervised process group — the Temporal dev server
// (persisting to $HERALD_DATA_DIR/temporal.db, UI on TEMPORAL_UI_PORT), a worker and the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { openMigratedDatabase } from '../db/database';
import { startDevServer } from '../../temporal/dev-server';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';
import { stopChild } from './stop-child';

const log = logger('herald');
const config = loadConfigOrExit();
mkdirSync(config.dataDir, { recursive: true });
await (await openMigratedDatabase(config.databasePath)).destroy();

let devServer: TestWorkflowEnvironment | undefined;
const childEnv: NodeJS.ProcessEnv = { ...process.env };
if (config.temporal.externalAddress) {
  log(`TEMPORAL_ADDRESS is set: using the cluster at ${config.temporal.address} instead of the embedded dev server`);
} else {
  const dbFilename = join(config.dataDir, 'temporal.db');
  log(`starting the Temporal dev server on 127.0.0.1:${config.temporal.port} (history in ${dbFilename}) ...`);
  try {
    devServer = await startDevServer({ port: config.temporal.port, uiPort: config.temporal.uiPort, dbFilename, namespace: config.temporal.namespace, cliPath: config.temporal.cliPath, log });
  } catch (error) {
    console.error(`[herald] the Temporal dev server did not start: ${(error as Error).message}\nIs port ${config.temporal.port} or ${config.temporal.uiPort} in use? Set TEMPORAL_PORT / TEMPORAL_UI_PORT, or TEMPORAL_ADDRESS for an existing cluster.`);
    process.exit(1);
  }
  childEnv.TEMPORAL_ADDRESS = `127.0.0.1:${config.temporal.port}`;
  log(`Temporal Web UI: http://127.0.0.1:${config.temporal.uiPort}`);
}

interface Supervised {
  name: string;
  script: string;
  child?: ChildProcess;
  restartDelayMs: number;
}

const entryDir = fileURLToPath(new URL('.', import.meta.url));
const parts: Supervised[] = [
  { name: 'worker', script: join(entryDir, 'worker.ts'), restartDelayMs: 1000 },
  { name: 'api', script: join(entryDir, 'api.ts'), restartDelayMs: 1000 },
];
let stopping = false;

function launch(part: Supervised): void {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', part.script], { env: childEnv, stdio: 'inherit' });
  part.child = child;
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
  if (devServer) {
    log('stopping the Temporal dev server ...');
    await devServer.teardown();
  }
  log('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
parts.forEach(launch);
log(`API on http://${config.http.host}:${config.http.port} — docs at /docs. Ctrl-C stops everything.`);
