import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';

export const RETENTION_BATCH_SIZE = 200;

export interface PurgeExpiredContentInput {
  batchSize?: number;
  /** Set only when a long purge continues as new: what it did so far. */
  totals?: RetentionTotals;
}

export interface RetentionTotals {
  executions: number;
  deliveries: number;
  renderedMessages: number;
  outboxMessages: number;
  batches: number;
}

const purge = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Started by the `herald/retention/<taskQueue>` schedule. Purges, batch after batch, what
 * executions closed more than HERALD_RETENTION_DAYS ago held about their recipients (context,
 * deliveries, rendered messages, outbox copies); the executions keep their outcome counts.
 */
export async function purgeExpiredContent(input: PurgeExpiredContentInput = {}): Promise<RetentionTotals> {
  const batchSize = input.batchSize ?? RETENTION_BATCH_SIZE;
  let totals = input.totals ?? { executions: 0, deliveries: 0, renderedMessages: 0, outboxMessages: 0, batches: 0 };
  for (;;) {
    const batch = await purge.purgeExpiredExecutionDetails({ batchSize });
    totals = {
      executions: totals.executions + batch.executions,
      deliveries: totals.deliveries + batch.deliveries,
      renderedMessages: totals.renderedMessages + batch.renderedMessages,
      outboxMessages: totals.outboxMessages + batch.outboxMessages,
      batches: totals.batches + 1,
    };
    if (!batch.more) return totals;
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof purgeExpiredContent>({ batchSize, totals });
  }
}
