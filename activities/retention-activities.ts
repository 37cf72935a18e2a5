import { log } from '@temporalio/activity';
import type { PurgedBatch, RetentionRepository } from '../src/repositories/retention';
import type { FeedbackEventRepository } from '../src/repositories/feedback-events';

/** Executions purged per transaction: small enough to keep the write lock short. */
const MAX_BATCH_SIZE = 500;

export interface PurgeBatchInput {
  batchSize: number;
}

export interface PurgeBatchResult extends PurgedBatch {
  /** True when the batch was full, so more may be waiting. */
  more: boolean;
}

export interface RetentionDependencies {
  retention: RetentionRepository;
  /** HERALD_RETENTION_DAYS: executions closed longer ago than this lose their details. */
  retentionDays: number;
  /** Feedback webhook events past retention are purged too; absent: they are kept. */
  feedbackEvents?: FeedbackEventRepository;
}

export function retentionActivities({ retention, retentionDays, feedbackEvents }: RetentionDependencies) {
  return {
    /** Purges the details of one batch of executions closed more than `retentionDays` ago. Safe to repeat. */
    async purgeExpiredExecutionDetails({ batchSize }: PurgeBatchInput): Promise<PurgeBatchResult> {
      const limit = Math.min(Math.max(1, Math.floor(batchSize)), MAX_BATCH_SIZE);
      const cutoff = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
      const purged = await retention.purgeExecutionDetails(cutoff, limit);
      // Feedback webhook events and attempts past retention (events an enabled endpoint has not read yet are kept).
      const feedbackPurged = (await feedbackEvents?.purgeBefore(cutoff)) ?? 0;
      if (feedbackPurged > 0) log.info('purged feedback webhook events past retention', { feedbackPurged, retentionDays });
      // Events received with an eventId (POST /v1/events) are remembered only to answer repeats.
      const eventsPurged = await retention.purgeReceivedEvents(cutoff);
      if (eventsPurged > 0) log.info('purged received events past retention', { eventsPurged, retentionDays });
      if (purged.executions > 0) log.info('purged execution details past retention', { ...purged, retentionDays });
      return { ...purged, more: purged.executions === limit };
    },
  };
}
