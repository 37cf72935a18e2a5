import { log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { NOT_STARTED_REASON, type ExecutionRepository, type RunningExecutionCursor } from '../src/repositories/executions';

/** Far more than one sweep needs; keeps a batch's history event and its run time bounded. */
const MAX_BATCH_SIZE = 500;

export interface OrphanSweepBatchInput {
  batchSize: number;
  after?: RunningExecutionCursor;
}

export interface OrphanSweepBatch {
  /** Unconfirmed running executions older than the grace period that this batch asked Temporal about; each is then confirmed or marked. */
  checked: number;
  /** Those whose workflow did not exist and that this batch failed with `not-started`. */
  marked: number;
  markedExecutionIds: string[];
  /** Set when the batch was full: where the next one resumes. */
  next?: RunningExecutionCursor;
}

async function workflowExists(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * `graceSeconds` must exceed how long the API may still be starting a workflow after its
 * claim; the config enforces that, so a start in flight is never taken for an orphan.
 */
export function orphanSweepActivities(executions: ExecutionRepository, temporal: Client, graceSeconds: number) {
  return {
    /**
     * Fails the running executions, claimed more than the grace period ago, whose workflow
     * Temporal does not know: the API stopped between its claim and the start and the client
     * never retried. Safe to repeat: it only fails executions that are still running.
     */
    async markNeverStartedExecutions({ batchSize, after }: OrphanSweepBatchInput): Promise<OrphanSweepBatch> {
      const limit = Math.min(Math.max(1, Math.floor(batchSize)), MAX_BATCH_SIZE);
      const claimedBefore = new Date(Date.now() - graceSeconds * 1000).toISOString();
      const candidates = await executions.listUnconfirmedRunning(claimedBefore, limit, after);
      const markedExecutionIds: string[] = [];
      for (const candidate of candidates) {
        if (await workflowExists(temporal, candidate.workflowId)) {
          await executions.confirmWorkflowStarted(candidate.executionId);
          continue;
        }
        if (await executions.failIfRunning(candidate.executionId, NOT_STARTED_REASON)) {
          markedExecutionIds.push(candidate.executionId);
          log.warn('execution never started its workflow; marked failed', { executionId: candidate.executionId, executionWorkflowId: candidate.workflowId, claimedAt: candidate.createdAt, reason: NOT_STARTED_REASON });
        }
      }
      const last = candidates.at(-1);
      return {
        checked: candidates.length,
        marked: markedExecutionIds.length,
        markedExecutionIds,
        ...(candidates.length === limit && last && { next: { createdAt: last.createdAt, executionId: last.executionId } }),
      };
    },
  };
}
