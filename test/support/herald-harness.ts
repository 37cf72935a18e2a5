import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig, type HeraldConfig } from '../../src/config/env';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { serveApi } from '../../src/entry/serve-api';
import { TEMPORAL_CALL_DEADLINE_MS } from '../../src/temporal-client/connection';
import { createWorker } from '../../src/worker/create-worker';
import { heraldDataConverter } from '../../src/temporal-client/data-converter';
import { requestJson, type ApiResponse } from './http-json';
import { randomPayloadKeys } from './payload-keys';
import { TEST_START_WAIT_MS } from './test-start-wait';
import { createTestDatabase } from './postgres-server';
import { housekeepingScheduleIds } from '../../workflows/workflow-ids';
import { registerSearchAttributes } from '../../temporal/search-attributes';

export type { ApiResponse };
export { randomPayloadKeys };

export interface Herald {
  baseUrl: string;
  config: HeraldConfig;
  db: HeraldDb;
  client: Client;
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  /** Polls the execution-status API until the execution leaves `running`. */
  waitForExecution(executionId: string, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Leave the worker out, for tests of what the API does on its own. */
  withoutWorker?: boolean;
  /** Another Temporal server than the run's shared one. */
  temporalAddress?: string;
  /**
   * Payload encryption (HERALD_PAYLOAD_KEYS with a fresh random key), on by default so the whole
   * suite runs encrypted. `false` runs with Temporal's default, readable payloads. A
   * HERALD_PAYLOAD_KEYS in `env` wins.
   */
  encryption?: boolean;
  /**
   * Temporal's time-skipping test server (TestWorkflowEnvironment) instead of the run's dev server:
   * the API and the worker use its client and connection, and no housekeeping schedule is made
   * (that server has no schedules). The test skips workflow time with `env.sleep`.
   */
  timeSkipping?: TestWorkflowEnvironment;
}

/**
 * A real Herald on the shared dev server: a fresh SQLite file, a real worker on its own task
 * queue, and the real HTTP API on an ephemeral loopback port.
 */
let runtimeInstalled = false;

export async function startHerald(options: HarnessOptions = {}): Promise<Herald> {
  if (!runtimeInstalled) {
    // Worker state changes at INFO would drown the test output. A file that started its own
    // dev server first already has a runtime, with default logging.
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // keep the existing runtime
    }
    runtimeInstalled = true;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  // The PostgreSQL suite gives each Herald its own database, unless the test brings DATABASE_URL or an SQLite file.
  const postgresAdminUrl = inject('postgresAdminUrl');
  const ownDatabase = postgresAdminUrl && !options.env?.DATABASE_URL && !options.env?.HERALD_DB_PATH ? await createTestDatabase(postgresAdminUrl) : undefined;
  const config = loadConfig({
    HERALD_DATA_DIR: dataDir,
    ...(ownDatabase && { DATABASE_URL: ownDatabase.url }),
    TEMPORAL_ADDRESS: options.timeSkipping?.address ?? options.temporalAddress ?? inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `herald-test-${randomUUID()}`,
    PORT: '1',
    HERALD_START_WAIT_MS: TEST_START_WAIT_MS,
    ...(options.encryption !== false && { HERALD_PAYLOAD_KEYS: randomPayloadKeys() }),
    ...options.env,
  });
  config.http.port = 0;
  const db = await openMigratedDatabase(config.database);
  const connection = await Connection.connect({ address: config.temporal.address });
  // The dev server gets Herald's search attributes from its command line; the test server here.
  if (options.timeSkipping) await registerSearchAttributes(options.timeSkipping.connection, config.temporal.namespace, console.warn);
  // On the time-skipping server, the environment's own client: only its calls let the server skip time.
  const client = options.timeSkipping
    ? new Client({
        connection: options.timeSkipping.connection,
        namespace: options.timeSkipping.namespace ?? config.temporal.namespace,
        dataConverter: heraldDataConverter(config.payloadKeys),
      })
    : new Client({ connection, namespace: config.temporal.namespace, dataConverter: heraldDataConverter(config.payloadKeys) });

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (!options.withoutWorker) {
    nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    worker = await createWorker({
      config,
      connection: options.timeSkipping?.nativeConnection ?? nativeConnection,
      client,
      db,
      workflowBundle: { code: inject('workflowBundleCode') },
      housekeeping: !options.timeSkipping,
    });
    workerRun = worker.run();
  }
  const server = await serveApi(config, db, client, () => {});
  const baseUrl = `http://127.0.0.1:${server.port}`;
  // The default HERALD_PUBLIC_URL is the API's own address, known only now (PORT 0); the worker
  // reads it from the same config object at each preparation.
  if (!options.env?.HERALD_PUBLIC_URL) config.publicUrl = baseUrl;

  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => requestJson(baseUrl, method, path, body, headers);

  return {
    baseUrl,
    config,
    db,
    client,
    request,
    async waitForExecution(executionId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await request('GET', `/v1/executions/${executionId}`);
        if (body?.status && body.status !== 'running') return body;
        if (Date.now() > deadline) throw new Error(`execution ${executionId} still running after ${timeoutMs} ms: ${JSON.stringify(body)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // As the API does when it stops, its starts answered before they succeeded (ADR 0011) end
      // first. A start's call can outlive its deadline by one of the Temporal client's retry
      // pauses (a few seconds), and a retry timer that fires after the connection is closed throws
      // from the timer ("Channel has been shut down"): so up to the deadline plus 10 s, which only
      // a test whose Temporal is unreachable ever waits for. The API process exits right after.
      await server.startsSettled(TEMPORAL_CALL_DEADLINE_MS + 10_000);
      if (worker && !options.timeSkipping) await deleteHousekeepingSchedules(client, config);
      worker?.shutdown();
      await workerRun;
      await nativeConnection?.close();
      await connection.close();
      await db.destroy();
      await ownDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Environment for another Herald on the same database as `config` (SQLite file or PostgreSQL database). */
export function sameDatabaseEnv(config: HeraldConfig): Record<string, string> {
  return config.database.dialect === 'postgres' ? { DATABASE_URL: config.database.url } : { HERALD_DB_PATH: config.database.path };
}

/**
 * A database that several Heralds of one test share: an SQLite file in `dataDir`, or on the
 * PostgreSQL suite a fresh database. Pass `env` to each startHerald; `drop` when done.
 */
export async function sharedDatabase(dataDir: string): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const adminUrl = inject('postgresAdminUrl');
  if (!adminUrl) return { env: { HERALD_DB_PATH: join(dataDir, 'herald.db') }, drop: async () => {} };
  const database = await createTestDatabase(adminUrl);
  return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
}

/** The run's task queue dies with this Herald; its schedules would keep firing into it. */
async function deleteHousekeepingSchedules(client: Client, config: HeraldConfig): Promise<void> {
  for (const scheduleId of housekeepingScheduleIds(config.temporal.taskQueue)) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
}
