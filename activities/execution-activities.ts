import type { RecipientOutcome } from '../src/domain/recipient';
import type { ExecutionRepository } from '../src/repositories/executions';

export function executionActivities(executions: ExecutionRepository) {
  return {
    async recordRecipientOutcome(executionId: string, outcome: RecipientOutcome): Promise<void> {
      await executions.recordOutcome(executionId, outcome);
    },
    async finishExecution(executionId: string, status: 'completed' | 'failed', reason?: string): Promise<void> {
      await executions.finish(executionId, status, reason);
    },
  };
}
