import { log } from '@temporalio/activity';
import type { PurgedBatch, RetentionRepository } from '../src/repositories/retention';

/** Executions purged per transaction: small enough to keep the write lock short. */
const MAX_BATCH_SIZE = 500;

export interface PurgeBatchInput {
  batchSize: number;
}

export interface PurgeBatchResult extends PurgedBatch {
  /** True when the batch was full, so more may be waiting. */
  more: boolean;
}

export function retentionActivities(retention: RetentionRepository, retentionDays: number) {
  return {
    /** Purges the details of one batch of executions closed more than `retentionDays` ago. Safe to repeat. */
    async purgeExpiredExecutionDetails({ batchSize }: PurgeBatchInput): Promise<PurgeBatchResult> {
      const limit = Math.min(Math.max(1, Math.floor(batchSize)), MAX_BATCH_SIZE);
      const cutoff = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
      const purged = await retention.purgeExecutionDetails(cutoff, limit);
      if (purged.executions > 0) log.info('purged execution details past retention', { ...purged, retentionDays });
      return { ...purged, more: purged.executions === limit };
    },
  };
}
