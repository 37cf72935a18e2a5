import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeResend, type FakeResend, type FakeResendFault } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';
import { createLiveCampaign, expectEveryMessageDeliveredOnce, keyFor, planTriggers, triggerWithRetry, type AcceptedTrigger } from './support/triggers';

/**
 * The provider fails for a while and then recovers: every message still ends delivered exactly
 * once. A real Herald (in-process worker + HTTP API on the shared dev server) sends through the
 * `resend` SDK to the fake Resend, which counts accepted sends per idempotency key.
 */
describe('provider errors: outage and rate limiting', () => {
  let fake: FakeResend;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeResend();
    herald = await startHerald({ env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: fake.url } });
    campaignId = await createLiveCampaign(herald.request);
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  async function runAll(label: string, count: number) {
    const planned = planTriggers(campaignId, label, count, 2);
    const accepted: AcceptedTrigger[] = await Promise.all(planned.map((trigger) => triggerWithRetry(herald.baseUrl, trigger)));
    const executions = new Map<string, any>();
    for (const { executionId } of accepted) executions.set(executionId, await herald.waitForExecution(executionId, 45_000));
    return { accepted, executions };
  }

  const statusesFor = (key: string) => fake.requestsFor(key).map((r) => r.status);

  it('a 503 outage over the first 14 requests, across several executions, ends with every message sent once', async () => {
    // 14 failures for 9 messages: every first attempt fails and some second attempts too.
    // Two of them are a gateway's HTML page rather than Resend's JSON.
    const outage: FakeResendFault[] = Array.from({ length: 14 }, (_, i) =>
      i % 7 === 3 ? { status: 503, rawBody: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>' } : { status: 503 },
    );
    fake.failNext(outage);

    const { accepted, executions } = await runAll('outage', 6); // 6 executions, 1 or 2 recipients each: 9 messages

    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    expect(fake.requests.filter((r) => r.status === 503)).toHaveLength(14); // the whole outage was seen
    const keys = accepted.flatMap(({ executionId, trigger }) => trigger.recipients.map((r) => keyFor(executionId, r.userId)));
    for (const key of keys) {
      // Retried while failing, and not once more after the provider accepted.
      expect(statusesFor(key).join(','), key).toMatch(/^(503,)*200$/);
    }
    const executionsHit = accepted.filter(({ executionId, trigger }) =>
      trigger.recipients.some((r) => statusesFor(keyFor(executionId, r.userId)).includes(503)),
    );
    expect(executionsHit.length).toBeGreaterThanOrEqual(3);
  });

  it('429 with Retry-After on many messages at once: each retry waits as told, each message is sent once', async () => {
    // Every first attempt: 429 "retry after 2 s" (longer than the 1 s initial backoff, so
    // honouring it is visible); the first three second attempts: 429 "retry after 1 s".
    fake.failNext([
      ...Array.from({ length: 6 }, (): FakeResendFault => ({ status: 429, retryAfterSeconds: 2 })),
      ...Array.from({ length: 3 }, (): FakeResendFault => ({ status: 429, retryAfterSeconds: 1 })),
    ]);

    const { accepted, executions } = await runAll('ratelimit', 4); // 4 executions: 6 messages

    expectEveryMessageDeliveredOnce(fake, accepted, executions);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(9);
    const keys = accepted.flatMap(({ executionId, trigger }) => trigger.recipients.map((r) => keyFor(executionId, r.userId)));
    for (const key of keys) {
      const attempts = fake.requestsFor(key);
      expect(attempts.map((r) => r.status).join(','), key).toMatch(/^(429,)+200$/);
      attempts.slice(0, -1).forEach((rateLimited, i) => {
        // Which Retry-After this request got follows from the order the fake answered the 429s in.
        const nth = fake.requests.filter((r) => r.status === 429).indexOf(rateLimited);
        const retryAfterSeconds = nth < 6 ? 2 : 1;
        const gap = attempts[i + 1]!.receivedAt - rateLimited.receivedAt;
        expect(gap, `${key} attempt ${i + 2} after a 429 with Retry-After ${retryAfterSeconds}`).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
      });
    }
  });
});
