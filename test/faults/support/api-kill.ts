import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { expect, inject } from 'vitest';
import { executionWorkflowId } from '../../../workflows/workflow-ids';
import { startFakeResend, type FakeResend } from '../../support/fake-resend';
import { startProcessStack, waitFor, type ProcessStack } from '../../support/process-stack';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { createLiveCampaign, type PlannedTrigger } from './triggers';

/** A worker and an API as processes, the API reaching Temporal through a TCP proxy the test can pause, the fake Resend, and a live campaign. */
export interface HeldTemporalStack {
  fake: FakeResend;
  temporalProxy: TcpProxy;
  stack: ProcessStack;
  campaignId: string;
  /** Ends the processes, then the proxy and the fake. Safe after a failed start. */
  close(): Promise<void>;
}

/** Starts a HeldTemporalStack; `env` and `apiEnv` as startProcessStack takes them. */
export async function startHeldTemporalStack(env: Record<string, string> = {}, apiEnv?: Record<string, string>): Promise<HeldTemporalStack> {
  const fake = await startFakeResend();
  const temporalProxy = await startTcpProxy(inject('temporalAddress'));
  let stack: ProcessStack | undefined;
  const close = async () => {
    await stack?.stop();
    await temporalProxy.close();
    await fake.close();
  };
  try {
    stack = await startProcessStack({
      temporalAddress: inject('temporalAddress'),
      apiTemporalAddress: temporalProxy.address,
      env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: fake.url, ...env },
      ...(apiEnv && { apiEnv }),
    });
    return { fake, temporalProxy, stack, campaignId: await createLiveCampaign(stack.request), close };
  } catch (error) {
    await close();
    throw error;
  }
}

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
