import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { startProviderProxy, type ProviderProxy } from './support/provider-proxy';

/**
 * The worker process dies (SIGKILL) in the middle of an audience run, while an email batch the
 * provider accepted is still unanswered, and is started again. Every member must get exactly
 * one email: the retried batch carries the same idempotency key, and recipients recorded as sent
 * are not sent again.
 */
describe('worker killed with SIGKILL mid audience run', () => {
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let stack: ProcessStack;

  beforeAll(async () => {
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    stack = await startProcessStack({ temporalAddress: inject('temporalAddress'), env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url } });
  });
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
    await fake?.close();
  });

  it('after a restart, the run completes and every member is emailed exactly once', async () => {
    const members = Array.from({ length: 350 }, (_, i) => `crash-${String(i).padStart(3, '0')}@example.com`);
    for (let i = 0; i < members.length; i += 25) {
      await Promise.all(
        members.slice(i, i + 25).map((userId) =>
          stack.request('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, {
            attributes: { firstName: 'X', segment: 'crash' },
            consents: { email: 'in' },
          }),
        ),
      );
    }
    const audience = await stack.request('POST', '/v1/audiences', {
      name: 'crash',
      namespace: 'email',
      definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: 'crash' }] },
    });
    expect(audience.status, JSON.stringify(audience.body)).toBe(201);
    const created = await stack.request('POST', '/v1/campaigns', {
      name: 'Crash sale',
      type: 'marketing',
      channel: 'email',
      content: { subject: 'Hi {{ profile.firstName }}', html: '<p>Sale</p>' },
      audience: { namespace: 'email', createMissingProfiles: false },
    });
    expect((await stack.request('POST', `/v1/campaigns/${created.body.id}/activate`)).status).toBe(200);

    // The first batch reaches the provider and is accepted, but its answer is held until after the crash.
    proxy.holdAnswers(true);
    const run = await stack.request('POST', '/v1/executions/audience', {
      requestId: 'crash-run',
      campaignId: created.body.id,
      audience: { id: audience.body.id },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    await waitFor('an email batch in flight on the worker', () => proxy.heldCount() >= 1, 60_000);
    await stack.worker.kill('SIGKILL');
    const acceptedBeforeCrash = fake.deliveries.length;
    proxy.holdAnswers(false);
    proxy.releaseHeld();
    await stack.worker.start();

    // The batch in flight on the dead worker is retried after its 20 s heartbeat timeout.
    const execution = await stack.waitForExecution(run.body.executionId, 120_000);
    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 350, failed: 0, excluded: 0, pending: 0 } });
    const perRecipient = fake.deliveriesByRecipient();
    expect(Object.keys(perRecipient).sort()).toEqual(members);
    expect(Object.entries(perRecipient).filter(([, n]) => n !== 1)).toEqual([]);
    // The crash really was mid-run: one batch was accepted before it, and was sent again with the same key and answered with the same ids.
    expect(acceptedBeforeCrash).toBeGreaterThanOrEqual(1);
    expect(acceptedBeforeCrash).toBeLessThan(350);
    const batchKeys = [...new Set(fake.requests.filter((r) => r.path === '/emails/batch').map((r) => r.idempotencyKey))];
    const repeated = batchKeys.filter((key) => fake.requestsFor(key!).length >= 2);
    expect(repeated.length).toBeGreaterThanOrEqual(1);
    for (const key of repeated) {
      const answers = fake
        .requestsFor(key!)
        .filter((r) => r.status === 200)
        .map((r) => JSON.stringify(r.response));
      expect(new Set(answers).size, key).toBe(1);
    }
    expect(stack.worker.starts).toBe(2);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
  }, 240_000);
});
