import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFcm, type FakeFcm } from '../support/fake-fcm';
import { uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { livePushCampaignWith, profileWithPushToken, triggerPush, type PushTrigger } from './support/push-campaign';

/**
 * Push through FCM HTTP v1 end to end: a real Herald (API, Temporal worker, SQLite or
 * PostgreSQL) gets an OAuth2 access token with google-auth-library from the fake's token
 * endpoint (the service account's token_uri) and sends to the fake's messages:send (FCM_BASE_URL).
 */

const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);
let counter = 0;
const nextUser = () => `fcm-user-${Date.now()}-${++counter}`;
const nextToken = () => `fcm-token-${Date.now()}-${++counter}:APA91b${'x'.repeat(40)}`;

describe('Push through FCM HTTP v1', () => {
  let fake: FakeFcm;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeFcm();
    herald = await startHerald({
      env: { FCM_BASE_URL: fake.url, HERALD_SENDER_ENV: 'ACME_FCM_SERVICE_ACCOUNT', ACME_FCM_SERVICE_ACCOUNT: fake.serviceAccountJson },
    });
    campaignId = await livePushCampaignWith(herald, {
      name: 'Acme FCM',
      provider: 'fcm',
      settings: { projectId: fake.projectId, serviceAccountEnv: 'ACME_FCM_SERVICE_ACCOUNT' },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  const trigger = (body: PushTrigger) => triggerPush(herald, campaignId, 'fcm', body);

  async function registeredUser() {
    const device = { userId: nextUser(), appID: 'com.example.app', platform: 'android' as const, token: nextToken() };
    await profileWithPushToken(herald, device);
    return { userId: device.userId, token: device.token };
  }

  it('sends the stored token with an OAuth2 access token from the service account, and records the message name', async () => {
    const { userId, token } = await registeredUser();
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'A-1' } }));
    const [request] = fake.requestsTo(token);
    expect(fake.requestsTo(token)).toHaveLength(1);
    expect(request!.path).toBe(`/v1/projects/${fake.projectId}/messages:send`);
    expect(request!.headers.authorization).toMatch(/^Bearer ya29\./);
    expect(request!.body.message).toMatchObject({
      token,
      notification: { title: 'Order A-1 shipped', body: 'Hi Ada' },
      data: { orderId: '42', deepLink: 'myapp://orders/42' },
      android: { collapse_key: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) },
    });
    expect(fake.tokenRequests.length).toBeLessThanOrEqual(1);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: fake.accepted[0]!.name });
  });

  it('sends to channelData.pushInfo rather than the stored token', async () => {
    const { userId, token: stored } = await registeredUser();
    const given = nextToken();
    const execution = await herald.waitForExecution(
      await trigger({
        recipients: [{ userId, namespace: 'crm', channelData: { pushInfo: { appID: 'com.example.app', platform: 'android', token: given } } }],
        context: { orderId: 'B' },
      }),
    );
    expect(fake.requestsTo(given)).toHaveLength(1);
    expect(fake.requestsTo(stored)).toHaveLength(0);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('retries 429 (honouring Retry-After) and 503 until FCM accepts, and sends once', async () => {
    const { userId, token } = await registeredUser();
    const retryAfterSeconds = 2;
    fake.failNext(token, [{ status: 429, retryAfterSeconds }, { status: 503 }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'C' } }));
    const attempts = fake.requestsTo(token);
    expect(attempts.map((r) => r.status)).toEqual([429, 503, 200]);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    expect(fake.accepted.filter((m) => m.token === token)).toHaveLength(1);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('fails a message FCM refuses (400 INVALID_ARGUMENT) at once, with the reason, and keeps the token', async () => {
    const { userId, token } = await registeredUser();
    fake.failNext(token, [{ status: 400 }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'D' } }));
    expect(fake.requestsTo(token).map((r) => r.status)).toEqual([400]);
    const outcome = outcomeOf(execution, userId);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.reason).toContain('provider-rejected: FCM 400 INVALID_ARGUMENT');
    expect((await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens).toHaveLength(1);
  });

  it('fails an UNREGISTERED token at once and removes it from the profile', async () => {
    const { userId, token } = await registeredUser();
    fake.unregister(token);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'E' } }));
    expect(fake.requestsTo(token).map((r) => r.status)).toEqual([404]);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^push-token-gone: FCM 404 UNREGISTERED/) });
    expect((await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens).toEqual([]);
    const next = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'F' } }));
    expect(outcomeOf(next, userId)).toMatchObject({ status: 'failed', reason: 'no-push-token' });
  });

  it('sends once however often the call is repeated; a retry after a lost answer collapses on the device queue (documented)', async () => {
    const { userId, token } = await registeredUser();
    const body = { requestId: uniqueRequestId('fcm-repeat'), recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'G' } };
    const [first, second] = await Promise.all([trigger(body), trigger(body)]);
    expect(second).toBe(first);
    await herald.waitForExecution(first);
    expect(await trigger(body)).toBe(first);
    expect(fake.requestsTo(token)).toHaveLength(1);

    const lost = await registeredUser();
    fake.failNext(lost.token, [{ acceptThenDrop: true }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId: lost.userId, namespace: 'crm' }], context: { orderId: 'H' } }));
    const attempts = fake.requestsTo(lost.token);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.body.message.android.collapse_key).toBe(attempts[0]!.body.message.android.collapse_key);
    expect(fake.queuedTo(lost.token)).toHaveLength(1);
    expect(outcomeOf(execution, lost.userId)).toMatchObject({ status: 'sent', messageId: fake.queuedTo(lost.token)[0]!.name });
  });
});
