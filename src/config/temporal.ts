import { z } from 'zod';
import { DEFAULT_HIGH_THROUGHPUT_PARTITIONS, MAX_HIGH_THROUGHPUT_PARTITIONS } from '../domain/high-throughput';
import { flag, optionalString, port, wholeNumber } from './zod-helpers';

/** How to reach Temporal: the embedded dev server on TEMPORAL_PORT, or a cluster at TEMPORAL_ADDRESS with TLS or an API key. */
export const temporalVariables = z.object({
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_PORT: port('TEMPORAL_PORT', 7233),
  TEMPORAL_UI_PORT: port('TEMPORAL_UI_PORT', 8233),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('herald'),
  TEMPORAL_TLS: flag,
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_TLS_CA_PATH: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  HERALD_WORKER_MAX_CACHED_WORKFLOWS: wholeNumber('HERALD_WORKER_MAX_CACHED_WORKFLOWS', 500, 0, 100_000, 'workflows'),
  // At most the API's 5 s deadline for a Temporal call, past which a start has failed anyway.
  HERALD_START_WAIT_MS: wholeNumber('HERALD_START_WAIT_MS', 50, 0, 5_000, 'milliseconds'),
  HERALD_HIGH_THROUGHPUT_PARTITIONS: wholeNumber(
    'HERALD_HIGH_THROUGHPUT_PARTITIONS',
    DEFAULT_HIGH_THROUGHPUT_PARTITIONS,
    1,
    MAX_HIGH_THROUGHPUT_PARTITIONS,
    'partitions',
  ),
});

export type TemporalVariables = z.infer<typeof temporalVariables>;

/** mTLS needs the client certificate and its key together. */
export function checkTemporalVariables(env: TemporalVariables, ctx: z.RefinementCtx): void {
  if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
    ctx.addIssue({
      code: 'custom',
      path: ['TEMPORAL_TLS_CERT_PATH'],
      message: 'set both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH for mTLS, or neither',
    });
  }
}

export interface TemporalConfig {
  temporal: {
    /** Set when the cluster is external; unset means the embedded dev server on `port`. */
    externalAddress?: string;
    address: string;
    port: number;
    uiPort: number;
    namespace: string;
    taskQueue: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string };
    apiKey?: string;
    cliPath?: string;
    /**
     * Workflows the worker keeps in memory between their tasks (the sticky cache). Runs that wait
     * (campaign steps, quiet hours) beyond it are evicted and replayed from history when they wake,
     * so the worker's memory is bounded by this, not by how many runs wait.
     */
    maxCachedWorkflows: number;
    /**
     * HERALD_START_WAIT_MS: how long a unitary trigger's answer waits for its workflow's start
     * (ADR 0011). Past it the call is answered from its claim, synced to disk, while the start goes
     * on; the orphan sweep starts what a stopped API left unstarted.
     */
    startWaitMs: number;
    /**
     * HERALD_HIGH_THROUGHPUT_PARTITIONS: how many dispatcher workflows drain the high-throughput
     * queue (ADR 0010). The API queues each trigger in one of them; a worker runs them. A change
     * strands nothing: a dispatcher past the count drains its partition, then ends.
     */
    highThroughputPartitions: number;
  };
}

export function temporalConfig(e: TemporalVariables): TemporalConfig {
  const useTls = e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT_PATH) || Boolean(e.TEMPORAL_API_KEY);
  return {
    temporal: {
      externalAddress: e.TEMPORAL_ADDRESS,
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_PORT}`,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: useTls ? { certPath: e.TEMPORAL_TLS_CERT_PATH, keyPath: e.TEMPORAL_TLS_KEY_PATH, caPath: e.TEMPORAL_TLS_CA_PATH } : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      cliPath: e.TEMPORAL_CLI_PATH,
      maxCachedWorkflows: e.HERALD_WORKER_MAX_CACHED_WORKFLOWS,
      startWaitMs: e.HERALD_START_WAIT_MS,
      highThroughputPartitions: e.HERALD_HIGH_THROUGHPUT_PARTITIONS,
    },
  };
}
