import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { RunningExecutionCursor } from '../src/repositories/executions';

export const ORPHAN_SWEEP_BATCH_SIZE = 100;

export interface SweepOrphanedExecutionsInput {
  batchSize?: number;
  /** Set only when a long sweep continues as new: where it resumes and what it found so far. */
  after?: RunningExecutionCursor;
  totals?: OrphanSweepTotals;
}

export interface OrphanSweepTotals {
  /** Running executions past the grace period whose workflow was looked up. */
  checked: number;
  /** Those whose workflow never started, now `failed` with `not-started`. */
  marked: number;
  batches: number;
}

/**
 * Each batch asks Temporal about up to a hundred workflows. A few attempts ride out a brief
 * outage; past that the run fails visibly and the next scheduled run starts over. The batch
 * heartbeats per execution, so a worker that dies mid-batch costs 15 s, not the 2-minute timeout
 * (the schedule skips new runs while this one is open). Timeouts are activity options, not
 * commands, so histories recorded before the heartbeat replay unchanged.
 */
const sweep = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Started by the `herald/orphan-sweep/<taskQueue>` schedule. Walks every running execution past
 * the grace period, oldest first, in bounded batches, and closes those whose workflow never
 * started. The result tells operators what one run did.
 */
export async function sweepOrphanedExecutions(input: SweepOrphanedExecutionsInput = {}): Promise<OrphanSweepTotals> {
  const batchSize = input.batchSize ?? ORPHAN_SWEEP_BATCH_SIZE;
  let totals = input.totals ?? { checked: 0, marked: 0, batches: 0 };
  let after = input.after;
  for (;;) {
    const batch = await sweep.markNeverStartedExecutions({ batchSize, ...(after && { after }) });
    totals = { checked: totals.checked + batch.checked, marked: totals.marked + batch.marked, batches: totals.batches + 1 };
    if (!batch.next) return totals;
    after = batch.next;
    // A backlog of thousands of running executions must not grow one history without bound.
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof sweepOrphanedExecutions>({ batchSize, after, totals });
  }
}
