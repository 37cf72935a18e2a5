import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { startProviderProxy, type ProviderProxy } from './support/provider-proxy';
import { createLiveCampaign, expectEveryMessageDeliveredOnce, planTriggers, triggerWithRetry, type AcceptedTrigger } from './support/triggers';

/**
 * The worker process dies (SIGKILL: no shutdown, no completions reported) in the middle of a
 * batch of 30 trigger calls, with sends accepted by the provider but not yet answered, and is
 * started again. Worker and API are real child processes (`node --import tsx src/entry/…`).
 */
describe('worker killed with SIGKILL mid-batch', () => {
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let stack: ProcessStack;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    stack = await startProcessStack({ temporalAddress: inject('temporalAddress'), env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url } });
    campaignId = await createLiveCampaign(stack.request);
  });
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
    await fake?.close();
  });

  it('after a restart, all 30 executions complete and every message is delivered exactly once', async () => {
    const planned = planTriggers(campaignId, 'crash', 30, 3); // 60 messages
    const [firstHalf, secondHalf] = [planned.slice(0, 15), planned.slice(15)];

    // Sends reach the provider and are accepted, but no answer comes back before the crash.
    proxy.holdAnswers(true);
    const accepted: AcceptedTrigger[] = await Promise.all(firstHalf.map((t) => triggerWithRetry(stack.baseUrl, t)));
    await waitFor('sends in flight on the worker', () => proxy.heldCount() >= 10, 30_000);

    await stack.worker.kill('SIGKILL');
    const acceptedBeforeCrash = new Set(fake.deliveries.map((d) => d.idempotencyKey));
    // The API keeps accepting while no worker runs.
    accepted.push(...(await Promise.all(secondHalf.map((t) => triggerWithRetry(stack.baseUrl, t)))));
    // The answers go nowhere: the worker that asked is gone.
    proxy.releaseHeld();
    await stack.worker.start();

    const executions = new Map<string, any>();
    // Sends that were in flight on the dead worker are retried after their 30 s startToClose timeout.
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 90_000));

    console.info(
      `[worker-crash] ${acceptedBeforeCrash.size} messages accepted by the provider before the SIGKILL, ${fake.requests.length} provider requests for ${fake.deliveries.length} deliveries`,
    );
    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    const total = accepted.reduce((n, a) => n + a.trigger.recipients.length, 0);
    expect(total).toBe(60);
    // The crash really was mid-batch: some messages were accepted before it, most were not.
    expect(acceptedBeforeCrash.size).toBeGreaterThanOrEqual(10);
    expect(acceptedBeforeCrash.size).toBeLessThan(total);
    // Every message the provider had accepted before the crash was sent again by the restarted
    // worker (its first answer was lost) and the provider answered with the same id.
    for (const key of acceptedBeforeCrash) {
      const requests = fake.requestsFor(key!);
      expect(requests.length, key).toBeGreaterThanOrEqual(2);
      expect(new Set(requests.map((r) => (r.response as { id: string }).id)).size, key).toBe(1);
    }
    expect(stack.worker.starts).toBe(2);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
  }, 150_000);
});
