import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { expect, inject } from 'vitest';
import { executionWorkflowId } from '../../../workflows/workflow-ids';
import { waitFor, type ProcessStack } from '../../support/process-stack';
import type { TcpProxy } from './tcp-proxy';
import type { PlannedTrigger } from './triggers';

/**
 * SIGKILLs the API while `temporalProxy` (paused) holds its bytes to Temporal, and only then lets
 * bytes through again, so none of the dead process's held workflow starts reaches Temporal: for
 * each of `triggers`, no workflow exists afterwards.
 */
export async function killApiWithStartsHeld(stack: ProcessStack, temporalProxy: TcpProxy, campaignId: string, triggers: PlannedTrigger[]): Promise<void> {
  await stack.api.kill('SIGKILL');
  await waitFor("the dead API's connections to Temporal to close", () => temporalProxy.connections() === 0, 5_000);
  temporalProxy.resume();
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    const client = new Client({ connection });
    for (const t of triggers) {
      await expect(client.workflow.getHandle(executionWorkflowId(campaignId, t.requestId)).describe(), t.requestId).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
  } finally {
    await connection.close();
  }
}
