import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';
import { startProviderProxy, type ProviderProxy } from './support/provider-proxy';
import { createLiveCampaign, expectEveryMessageDeliveredOnce, keyFor, planTriggers, triggerWithRetry } from './support/triggers';

/**
 * The provider is slower than Herald is willing to wait (PROVIDER_TIMEOUT_MS, set short here;
 * the 30 s startToClose of sendEmail is the backstop). Herald gives up on the call and retries
 * with the same idempotency key; whether the slow call was still being processed or had already
 * been accepted, the message is delivered once and Herald records the provider's id.
 */
const PROVIDER_TIMEOUT_MS = 1_500;

describe('slow provider, beyond the send timeout', () => {
  let fake: FakeResend;
  let proxy: ProviderProxy;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeResend();
    proxy = await startProviderProxy(fake.url);
    herald = await startHerald({ env: { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: proxy.url, PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) } });
    campaignId = await createLiveCampaign(herald.request);
  });
  afterAll(async () => {
    await herald?.stop();
    await proxy?.close();
    await fake?.close();
  });

  it('a send still in progress and a send whose answer is late are each delivered once', async () => {
    const [trigger] = planTriggers(campaignId, 'slow', 1, 3, 2); // one execution, three recipients
    const [inProgress, lateAnswer, normal] = trigger!.recipients.map((r) => r.userId) as [string, string, string];
    // Held (not yet accepted) until Herald retries; retries meanwhile get 409 concurrent_idempotent_requests.
    proxy.slowFirstAttempt(inProgress, 'slow-accept', 45_000);
    // Accepted at once, answer held until Herald retries.
    proxy.slowFirstAttempt(lateAnswer, 'slow-answer', 45_000);

    const accepted = await triggerWithRetry(herald.baseUrl, trigger!);
    const execution = await herald.waitForExecution(accepted.executionId, 75_000);

    expectEveryMessageDeliveredOnce(fake, [accepted], new Map([[accepted.executionId, execution]]));

    // Still in progress: Herald abandoned the call, its retry was refused as concurrent, the slow
    // call was then accepted, and the next retry got the remembered id instead of a second send.
    const slowKey = keyFor(accepted.executionId, inProgress);
    const slowAttempts = proxy.attemptsFor(slowKey);
    expect(slowAttempts[0]).toMatchObject({ slow: 'slow-accept', outcome: 'forwarded' });
    expect(slowAttempts.slice(1).map((a) => a.outcome)).toEqual(['concurrent-409', 'forwarded']);
    expect(slowAttempts[0]!.forwardedAt!).toBeGreaterThanOrEqual(slowAttempts[1]!.receivedAt);
    expect(slowAttempts[1]!.receivedAt - slowAttempts[0]!.receivedAt).toBeGreaterThanOrEqual(PROVIDER_TIMEOUT_MS);
    expect(fake.requestsFor(slowKey).map((r) => r.status)).toEqual([200, 200]);
    expect(new Set(fake.requestsFor(slowKey).map((r) => (r.response as { id: string }).id)).size).toBe(1);

    // Late answer: accepted on the first call, which Herald gave up on; the retry got the same id.
    const lateKey = keyFor(accepted.executionId, lateAnswer);
    const lateAttempts = proxy.attemptsFor(lateKey);
    expect(lateAttempts).toHaveLength(2);
    expect(lateAttempts[0]).toMatchObject({ slow: 'slow-answer', outcome: 'forwarded' });
    expect(lateAttempts[0]!.answeredAt!).toBeGreaterThanOrEqual(lateAttempts[1]!.receivedAt);
    expect(lateAttempts[0]!.clientGone, 'Herald abandoned the hung call').toBe(true);
    expect(lateAttempts[1]!.receivedAt - lateAttempts[0]!.receivedAt).toBeGreaterThanOrEqual(PROVIDER_TIMEOUT_MS);
    expect(fake.requestsFor(lateKey).map((r) => r.status)).toEqual([200, 200]);

    // The third recipient was not held up by the other two.
    expect(fake.requestsFor(keyFor(accepted.executionId, normal)).map((r) => r.status)).toEqual([200]);
  }, 90_000);
});
