import type { RecipientOutcome } from '../src/domain/recipient';
import type { ExecutionRepository } from '../src/repositories/executions';

export function executionActivities(executions: ExecutionRepository) {
  return {
    /** Records every recipient outcome and the execution's end in one transaction; safe to repeat. */
    async completeExecution(executionId: string, outcomes: RecipientOutcome[], failureReason?: string): Promise<void> {
      await executions.complete(executionId, outcomes, failureReason);
    },
  };
}
