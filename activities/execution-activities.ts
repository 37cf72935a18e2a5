import type { RecipientOutcome } from '../src/domain/recipient';
import type { ClosedCounts, ExecutionRepository, PositionOutcome } from '../src/repositories/executions';

export interface CloseExecutionInput {
  executionId: string;
  /** Outcomes the workflow learned itself (a send that timed out); recipients already closed keep theirs. */
  outcomes: PositionOutcome[];
  failureReason?: string;
}

export function executionActivities(executions: ExecutionRepository) {
  return {
    /** Old path: records every recipient outcome by userId and the execution's end in one transaction; safe to repeat. */
    async completeExecution(executionId: string, outcomes: RecipientOutcome[], failureReason?: string): Promise<void> {
      await executions.complete(executionId, outcomes, failureReason);
    },
    /** Closes an execution by reference: counts its outcomes and ends it, in one transaction; safe to repeat. */
    async closeExecution({ executionId, outcomes, failureReason }: CloseExecutionInput): Promise<ClosedCounts> {
      return executions.close(executionId, outcomes, failureReason);
    },
  };
}
