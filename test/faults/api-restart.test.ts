import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeResend } from '../support/fake-resend';
import { sleep, waitFor, type ProcessStack } from '../support/process-stack';
import { killApiWithStartsHeld, startHeldTemporalStack, type HeldTemporalStack } from './support/api-kill';
import type { TcpProxy } from './support/tcp-proxy';
import { attemptSummary, claimedExecutions, expectEveryMessageDeliveredOnce, planTriggers, triggerWithRetry, type AcceptedTrigger } from './support/triggers';

/**
 * The API process dies (SIGKILL) with trigger calls in flight and is started again on the same
 * port. The calls are caught at the worst moment: the requestId is claimed in Herald's database
 * (an executionId assigned) but the workflow start has not reached Temporal, because the API
 * talks to Temporal through a TCP proxy that is holding its bytes. A client that retries the same
 * body gets the executionId the dead process had assigned, and every message is delivered once.
 */
describe('API killed with SIGKILL while calls are in flight', () => {
  let fake: FakeResend;
  let temporalProxy: TcpProxy;
  let stack: ProcessStack;
  let campaignId: string;

  let herald: HeldTemporalStack;

  beforeAll(async () => {
    herald = await startHeldTemporalStack();
    ({ fake, temporalProxy, stack, campaignId } = herald);
  });
  afterAll(async () => {
    await herald?.close();
  });

  const claims = () => claimedExecutions(stack.database);

  it('retried calls get the executionId claimed before the crash and every message is delivered once', async () => {
    const settled = planTriggers(campaignId, 'settled', 5, 2); // answered before the crash
    const inFlight = planTriggers(campaignId, 'inflight', 10, 3, 5); // in flight when it dies
    const accepted: AcceptedTrigger[] = await Promise.all(settled.map((t) => triggerWithRetry(stack.baseUrl, t)));

    temporalProxy.pause();
    const inFlightCalls = inFlight.map((t) => triggerWithRetry(stack.baseUrl, t, { deadlineMs: 60_000 }));
    const claimedBeforeCrash = await waitFor(
      'every in-flight call claimed in the database',
      async () => {
        const all = await claims();
        return inFlight.every((t) => all.has(t.requestId)) ? all : undefined;
      },
      20_000,
    );
    // Still stuck on the workflow start: nothing was answered yet.
    await sleep(300);
    // The crash hit the gap between claim and start: none of these workflows exists.
    await killApiWithStartsHeld(stack, temporalProxy, campaignId, inFlight);
    // Meanwhile the clients see connection errors and retry against a port nobody listens on.
    await sleep(500);
    await stack.api.start();

    const retried = await Promise.all(inFlightCalls);
    accepted.push(...retried);
    console.info(`[api-restart] attempts of the calls in flight at the SIGKILL: ${attemptSummary(retried)}`);
    for (const call of retried) {
      expect(call.executionId, call.trigger.requestId).toBe(claimedBeforeCrash.get(call.trigger.requestId));
      expect(call.attempts.length, JSON.stringify(call.attempts)).toBeGreaterThanOrEqual(2);
      expect(call.attempts[0]!.status, 'the first attempt died with the API').toBe(0);
    }

    const executions = new Map<string, any>();
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 60_000));
    expectEveryMessageDeliveredOnce(fake, accepted, executions);

    // The same calls once more, against the restarted API: same executions, nothing sent again.
    const repeats = await Promise.all(accepted.map(({ trigger }) => triggerWithRetry(stack.baseUrl, trigger)));
    expect(repeats.map((r) => r.executionId)).toEqual(accepted.map((a) => a.executionId));
    await sleep(1_000);
    const messages = accepted.reduce((n, a) => n + a.trigger.recipients.length, 0);
    expect(fake.deliveries).toHaveLength(messages);
    expect(new Set((await claims()).values()).size).toBe(accepted.length);

    expect(stack.api.starts).toBe(2);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
  }, 120_000);
});
