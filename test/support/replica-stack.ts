import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { loadConfig } from '../../src/config/env';
import { openMigratedDatabase, type DatabaseTarget } from '../../src/db/database';
import { connectClient } from '../../src/temporal-client/connection';
import { housekeepingScheduleIds } from '../../workflows/workflow-ids';
import { freePort } from './free-port';
import { requestJson, type ApiResponse } from './http-json';
import { apiAnswers, heraldChildEnv, ManagedProcess, sleep, waitForExecution } from './process-stack';

/**
 * Herald as a replicated deployment, the layout docs/operations.md describes under "Running several APIs
 * and workers": N API processes and M worker processes (`node --import tsx src/entry/{api,worker}.ts`,
 * ManagedProcess from process-stack.ts) against ONE PostgreSQL database and ONE Temporal server,
 * all with the same DATABASE_URL, TEMPORAL_TASK_QUEUE and HERALD_PAYLOAD_KEYS, each API on a port
 * of its own. Nothing here balances load: tests pick an API per call (see `triggerViaReplicas`).
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const WORKER_SCRIPT = join(repoRoot, 'src/entry/worker.ts');
const API_SCRIPT = join(repoRoot, 'src/entry/api.ts');

export interface ReplicaStackOptions {
  temporalAddress: string;
  /** The one PostgreSQL database every replica shares. */
  databaseUrl: string;
  apis: number;
  workers: number;
  /** For every process. */
  env?: Record<string, string>;
  /** Extra environment for API number `index` (0-based), e.g. another TEMPORAL_ADDRESS. */
  apiEnv?: (index: number) => Record<string, string> | undefined;
  /**
   * Run the migrations once before any process starts (`npm run migrate` as a deploy step).
   * Default false: every process migrates at startup, all at the same moment.
   */
  migrateFirst?: boolean;
  /** Start the processes now, all at once (default); otherwise call `start()`. */
  start?: boolean;
  readyTimeoutMs?: number;
}

export interface ApiReplica {
  process: ManagedProcess;
  port: number;
  baseUrl: string;
  request<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
}

export interface ReplicaStack {
  database: DatabaseTarget;
  taskQueue: string;
  /** The environment every process shares (without PORT). */
  env: NodeJS.ProcessEnv;
  apis: ApiReplica[];
  workers: ManagedProcess[];
  /** Starts every process that is not running, all at once. */
  start(): Promise<void>;
  /** A further API replica on its own port (not started), e.g. one with another Temporal address. */
  addApi(name: string, env?: Record<string, string>): Promise<ApiReplica>;
  /** A call to the first API that is running. */
  request<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Polls the execution-status API (of any running API) until the execution leaves `running`. */
  waitForExecution(executionId: string, timeoutMs?: number): Promise<any>;
  /** A Temporal client with the deployment's payload keys (housekeeping results are encrypted). */
  temporalClient(): Promise<Client>;
  /** Ends every process (SIGTERM, then SIGKILL), deletes the housekeeping schedules and the data directory. */
  stop(): Promise<void>;
}

export async function startReplicaStack(options: ReplicaStackOptions): Promise<ReplicaStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-replicas-'));
  const taskQueue = `herald-replicas-${randomUUID()}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const database: DatabaseTarget = { dialect: 'postgres', url: options.databaseUrl };
  const env: NodeJS.ProcessEnv = {
    ...heraldChildEnv({ dataDir, temporalAddress: options.temporalAddress, taskQueue, payloadKeyId: 'replicas' }),
    DATABASE_URL: options.databaseUrl,
    ...options.env,
  };

  const makeApi = async (name: string, extra: Record<string, string> | undefined): Promise<ApiReplica> => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const process_ = new ManagedProcess({
      name,
      script: API_SCRIPT,
      env: { ...env, PORT: String(port), ...extra },
      readyTimeoutMs,
      readyProbe: apiAnswers(baseUrl),
    });
    return { process: process_, port, baseUrl, request: (method, path, body) => requestJson(baseUrl, method, path, body, {}, 15_000) };
  };

  const apis: ApiReplica[] = [];
  for (let i = 0; i < options.apis; i++) apis.push(await makeApi(`api-${i + 1}`, options.apiEnv?.(i)));
  const extraApis: ApiReplica[] = [];
  const workers = Array.from(
    { length: options.workers },
    (_, i) =>
      new ManagedProcess({
        name: `worker-${i + 1}`,
        script: WORKER_SCRIPT,
        env: { ...env },
        readyTimeoutMs,
        readyLine: 'polling task queue',
      }),
  );

  const runningApi = () => {
    const api = [...apis, ...extraApis].find((a) => a.process.running);
    if (!api) throw new Error('no API replica is running');
    return api;
  };
  const request = <T = any>(method: string, path: string, body?: unknown) => runningApi().request<T>(method, path, body);
  const temporalClient = () => {
    const config = loadConfig({ ...env, PORT: '3000' });
    return connectClient(config.temporal, config.payloadKeys);
  };

  let stopped = false;
  const stack: ReplicaStack = {
    database,
    taskQueue,
    env,
    apis,
    workers,
    async start() {
      const all = [...workers, ...apis.map((a) => a.process)].filter((p) => !p.running);
      const results = await Promise.allSettled(all.map((p) => p.start()));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      if (failed.length > 0) throw new Error(`${failed.length} of ${all.length} replicas failed to start:\n${failed.map((e) => e.message).join('\n---\n')}`);
    },
    async addApi(name, extra) {
      const api = await makeApi(name, extra);
      extraApis.push(api);
      return api;
    },
    request,
    waitForExecution: (executionId, timeoutMs = 60_000) => waitForExecution(request, executionId, timeoutMs, []),
    temporalClient,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([...apis, ...extraApis].map((a) => a.process.stop()).concat(workers.map((w) => w.stop())));
      // The schedules would keep firing into a task queue nobody polls any more.
      try {
        const client = await temporalClient();
        try {
          for (const scheduleId of housekeepingScheduleIds(taskQueue)) {
            await client.schedule
              .getHandle(scheduleId)
              .delete()
              .catch((error: unknown) => {
                if (!(error instanceof ScheduleNotFoundError)) throw error;
              });
          }
        } finally {
          await client.connection.close();
        }
      } catch (error) {
        console.warn(`[replica-stack] could not delete the housekeeping schedules of ${taskQueue}: ${(error as Error).message}`);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  if (options.migrateFirst) await (await openMigratedDatabase(database)).destroy();
  if (options.start !== false) {
    try {
      await stack.start();
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  return stack;
}

export interface TriggerBody {
  requestId: string;
  campaignId: string;
  recipients: { userId: string; namespace: string; context?: Record<string, unknown> }[];
  context?: Record<string, unknown>;
}

export interface ReplicaAttempt {
  at: number;
  /** Which API (index into the URL list) the attempt went to. */
  api: number;
  /** HTTP status, or 0 for a connection error / timeout. */
  status: number;
  error?: string;
}

export interface ReplicaAcceptedTrigger<T extends TriggerBody = TriggerBody> {
  trigger: T;
  executionId: string;
  attempts: ReplicaAttempt[];
}

/**
 * What a client behind a load balancer sees: the call goes to API `first`; on a connection error,
 * a timeout, a 5xx or a 429 the very same body (same requestId) is sent again to the NEXT API, with
 * backoff, until one answers 202. Any other answer is a test failure. Bounded by `deadlineMs`.
 */
export async function triggerViaReplicas<T extends TriggerBody>(
  baseUrls: string[],
  trigger: T,
  options: { first?: number; deadlineMs?: number; attemptTimeoutMs?: number } = {},
): Promise<ReplicaAcceptedTrigger<T>> {
  const deadline = Date.now() + (options.deadlineMs ?? 90_000);
  const attempts: ReplicaAttempt[] = [];
  let api = (options.first ?? 0) % baseUrls.length;
  let backoffMs = 50;
  for (;;) {
    const at = Date.now();
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(`${baseUrls[api]}/v1/executions/unitary`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(trigger),
        signal: AbortSignal.timeout(options.attemptTimeoutMs ?? 15_000),
      });
      const text = await response.text();
      attempts.push({ at, api, status: response.status });
      if (response.status === 202) return { trigger, executionId: JSON.parse(text).executionId as string, attempts };
      if (response.status < 500 && response.status !== 429) throw new Error(`trigger ${trigger.requestId} answered ${response.status} by API ${api}: ${text}`);
      const retryAfter = Number(response.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfter * 1000, 2_000);
    } catch (error) {
      if ((error as Error).message.startsWith(`trigger ${trigger.requestId} answered`)) throw error;
      attempts.push({ at, api, status: 0, error: `${(error as Error).name}: ${(error as Error).message}` });
    }
    if (Date.now() > deadline) throw new Error(`trigger ${trigger.requestId} not accepted before the deadline; attempts: ${JSON.stringify(attempts)}`);
    api = (api + 1) % baseUrls.length;
    await sleep(retryAfterMs ?? backoffMs);
    backoffMs = Math.min(backoffMs * 2, 1_000);
  }
}

/** "0:202" or "0:0>1:202" per call: api index and status of each attempt. */
export const replicaAttemptSummary = (calls: ReplicaAcceptedTrigger[]) => calls.map((c) => c.attempts.map((a) => `${a.api}:${a.status}`).join('>')).join(' ');
