import { condition, continueAsNew, defineSignal, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';

/** Ids, settings and counts only: this is history (ADR 0001). */
export interface HighThroughputDispatcherInput {
  partition: number;
  /** At most this many triggers per batch. */
  batchSize: number;
  /** How long an idle dispatcher waits for a nudge before it looks at the queue again. */
  idleMs: number;
  /** Rounds per run before continuing as new (a round is about 6 history events; idle polls about 5). */
  batchesPerRun?: number;
  /** Drain sessions: after a short batch, how long the next one gets to fill. */
  lingerMs?: number;
  /** Drain sessions: how long one runs before it reports back (the details in the Temporal UI move then). */
  sessionMs?: number;
  /** Carried over by continueAsNew: what earlier runs sent, for the Temporal UI. */
  totals?: { batches: number; triggers: number; sent: number; failed: number };
}

/** Anyone who queued a trigger may say so: the dispatcher stops waiting at once. Carries nothing. */
export const nudgeSignal = defineSignal('nudge');

const DEFAULT_BATCHES_PER_RUN = 500;
const DEFAULT_LINGER_MS = 100;
const DEFAULT_SESSION_MS = 20_000;

/**
 * The patch (ADR 0010, "Drain sessions"): a round is one drain session, an activity that sends
 * batch after batch while triggers keep coming, instead of one batch; nudges that arrive during it
 * are kept, so a trigger queued after its last claim is not left to the idle timer. Before it,
 * every batch was an activity and a workflow task of its own, which under load (batches of a few
 * triggers, woken by nudges) cost Temporal about as much CPU as the sending did.
 */
export const DRAIN_SESSIONS = 'high-throughput-drain-sessions';

/**
 * The patch (ADR 0010, "Partitions"): a dispatcher whose partition is past the worker's
 * HERALD_HIGH_THROUGHPUT_PARTITIONS (its session says `retire` once it found the partition empty)
 * ends, unless a nudge came meanwhile. A trigger queued there later starts it again: the API's
 * nudge is a signal-with-start. Older branch: none to move; before the patch no session said
 * `retire`, so no recorded history reaches the check, which is why it is asked only then.
 */
export const END_PAST_THE_COUNT = 'high-throughput-end-past-the-count';

/**
 * One per partition of the high-throughput queue (`ht-dispatcher/<taskQueue>/<partition>`,
 * ADR 0010), started by every worker (the first start wins, the others join it). Loops: one drain
 * session (an activity) sends batches of up to `batchSize` queued triggers while they keep coming;
 * when it found the queue empty, the dispatcher waits for a nudge or `idleMs`; one past the
 * partition count ends instead. Its details show the totals sent; the session's heartbeats show
 * its progress meanwhile.
 */
export async function highThroughputDispatcher(input: HighThroughputDispatcherInput): Promise<void> {
  const { dispatchHighThroughputBatch } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    // Never given up: an accepted trigger is sent once the provider or database is back.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [] },
  });
  const { drainHighThroughputPartition } = proxyActivities<HeraldActivities>({
    // A session stops claiming after sessionMs; its last batch may take longer.
    startToCloseTimeout: '5 minutes',
    // It heartbeats at least once per email block and batch: a killed worker's session is retried (and its batch resumed) this soon.
    heartbeatTimeout: '10 seconds',
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
  const sessions = patched(DRAIN_SESSIONS);
  for (let round = 0; round < perRun; round++) {
    if (sessions) nudged = false;
    const result = sessions
      ? await drainHighThroughputPartition({
          partition: input.partition,
          batchSize: input.batchSize,
          lingerMs: input.lingerMs ?? DEFAULT_LINGER_MS,
          sessionMs: input.sessionMs ?? DEFAULT_SESSION_MS,
        })
      : await dispatchHighThroughputBatch({ partition: input.partition, limit: input.batchSize }).then((batch) => ({
          ...batch,
          batches: batch.triggers > 0 ? 1 : 0,
          more: batch.triggers >= input.batchSize,
        }));
    totals.batches += result.batches;
    totals.triggers += result.triggers;
    totals.sent += result.sent;
    totals.failed += result.failed;
    if (workflowInfo().continueAsNewSuggested) break;
    // More are waiting: a full batch, or a session that ran out of time.
    if (result.more) continue;
    // Drained, and past the count: nothing will be queued here but by an API on a larger count, whose nudge starts it again.
    if ('retire' in result && result.retire && !nudged && patched(END_PAST_THE_COUNT)) {
      show('drained, past the partition count: ended');
      return;
    }
    show('idle');
    // Before drain sessions, nudges that came during the batch were dropped here.
    if (!sessions) nudged = false;
    await condition(() => nudged, input.idleMs);
    show('sending');
  }
  return continueAsNew<typeof highThroughputDispatcher>({ ...input, totals });
}
