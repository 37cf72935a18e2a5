import { condition, continueAsNew, defineSignal, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';

/** Ids, settings and counts only: this is history (ADR 0001). */
export interface HighThroughputDispatcherInput {
  partition: number;
  /** At most this many triggers per batch. */
  batchSize: number;
  /** How long an idle dispatcher waits for a nudge before it looks at the queue again. */
  idleMs: number;
  /** Batches per run before continuing as new (a batch is about 6 history events; idle polls about 5). */
  batchesPerRun?: number;
  /** Carried over by continueAsNew: what earlier runs sent, for the Temporal UI. */
  totals?: { batches: number; triggers: number; sent: number; failed: number };
}

/** Anyone who queued a trigger may say so: the dispatcher stops waiting at once. Carries nothing. */
export const nudgeSignal = defineSignal('nudge');

const DEFAULT_BATCHES_PER_RUN = 500;

/**
 * One per partition of the high-throughput queue (`ht-dispatcher/<taskQueue>/<partition>`,
 * ADR 0010), started by every worker (the first start wins, the others join it). Loops: one
 * activity claims and sends up to `batchSize` queued triggers; while batches come back full it
 * goes straight on, otherwise it waits for a nudge or `idleMs`. Its details show the totals sent.
 */
export async function highThroughputDispatcher(input: HighThroughputDispatcherInput): Promise<never> {
  const { dispatchHighThroughputBatch } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    // Never given up: an accepted trigger is sent once the provider or database is back.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [] },
  });
  let nudged = false;
  setHandler(nudgeSignal, () => {
    nudged = true;
  });
  const totals = { ...(input.totals ?? { batches: 0, triggers: 0, sent: 0, failed: 0 }) };
  const perRun = input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN;
  const show = (state: string) =>
    setCurrentDetails(
      `partition ${input.partition}: ${state} · ${totals.triggers} triggers in ${totals.batches} batches, ${totals.sent} sent, ${totals.failed} failed`,
    );
  show('starting');
  for (let round = 0; round < perRun; round++) {
    const result = await dispatchHighThroughputBatch({ partition: input.partition, limit: input.batchSize });
    if (result.triggers > 0) {
      totals.batches++;
      totals.triggers += result.triggers;
      totals.sent += result.sent;
      totals.failed += result.failed;
    }
    if (workflowInfo().continueAsNewSuggested) break;
    // A full batch: more are probably waiting.
    if (result.triggers >= input.batchSize) continue;
    show('idle');
    nudged = false;
    await condition(() => nudged, input.idleMs);
    show('sending');
  }
  return continueAsNew<typeof highThroughputDispatcher>({ ...input, totals });
}
