import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeResend } from '../support/fake-resend';
import { sleep, type ProcessStack } from '../support/process-stack';
import { killApiWithStartsHeld, startHeldTemporalStack, type HeldTemporalStack } from './support/api-kill';
import type { TcpProxy } from './support/tcp-proxy';
import { attemptSummary, claimedExecutions, expectEveryMessageDeliveredOnce, planTriggers, triggerWithRetry, type AcceptedTrigger } from './support/triggers';

const GRACE_SECONDS = 10;

/**
 * ADR 0011: a trigger of a campaign without steps is answered from its claim, synced to disk, once
 * HERALD_START_WAIT_MS is over, while its workflow start goes on. Here the starts cannot reach
 * Temporal (the API talks to it through a TCP proxy that holds its bytes), the calls are answered
 * 202 all the same, and the API process dies (SIGKILL) before any start gets through. Nobody
 * retries: the clients have their 202. The orphan sweep of the worker starts each of them, and
 * every message is delivered exactly once.
 */
describe('API killed with SIGKILL after answering calls whose workflows had not started', () => {
  let fake: FakeResend;
  let temporalProxy: TcpProxy;
  let stack: ProcessStack;
  let campaignId: string;

  let herald: HeldTemporalStack;

  beforeAll(async () => {
    herald = await startHeldTemporalStack(
      { HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: '1', HERALD_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS) },
      // npm start's setting, not the test harness's.
      { HERALD_START_WAIT_MS: '50' },
    );
    ({ fake, temporalProxy, stack, campaignId } = herald);
  });
  afterAll(async () => {
    await herald?.close();
  });

  it('the sweep starts every answered call once the grace period is over, and each message is delivered once', async () => {
    const settled = planTriggers(campaignId, 'settled', 5, 2);
    const answeredEarly = planTriggers(campaignId, 'answered', 10, 3, 5);
    const accepted: AcceptedTrigger[] = await Promise.all(settled.map((t) => triggerWithRetry(stack.baseUrl, t)));

    temporalProxy.pause();
    const answered = await Promise.all(answeredEarly.map((t) => triggerWithRetry(stack.baseUrl, t)));
    console.info(`[api-killed-after-answer] attempts of the calls answered while Temporal was held: ${attemptSummary(answered)}`);
    const claims = await claimedExecutions(stack.database);
    for (const call of answered) {
      expect(
        call.attempts.map((a) => a.status),
        call.trigger.requestId,
      ).toEqual([202]);
      expect(call.executionId, call.trigger.requestId).toBe(claims.get(call.trigger.requestId));
    }
    await killApiWithStartsHeld(stack, temporalProxy, campaignId, answeredEarly);
    await stack.api.start();

    accepted.push(...answered);
    const executions = new Map<string, any>();
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, (GRACE_SECONDS + 60) * 1000));
    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    for (const { executionId } of answered) {
      const execution = executions.get(executionId);
      expect(Date.parse(execution.completedAt) - Date.parse(execution.createdAt), 'started by the sweep, past the grace period').toBeGreaterThanOrEqual(
        GRACE_SECONDS * 1000,
      );
    }

    // The same calls once more: same executions, nothing sent again.
    const repeats = await Promise.all(accepted.map(({ trigger }) => triggerWithRetry(stack.baseUrl, trigger)));
    expect(repeats.map((r) => r.executionId)).toEqual(accepted.map((a) => a.executionId));
    await sleep(2_000);
    const messages = accepted.reduce((n, a) => n + a.trigger.recipients.length, 0);
    expect(fake.deliveries).toHaveLength(messages);
    expect(new Set((await claimedExecutions(stack.database)).values()).size).toBe(accepted.length);

    expect(stack.api.starts).toBe(2);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
  }, 180_000);
});
