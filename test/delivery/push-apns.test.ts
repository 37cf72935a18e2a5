import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApns, type FakeApns } from '../support/fake-apns';
import { uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { livePushCampaignWith, profileWithPushToken, triggerPush, type PushTrigger } from './support/push-campaign';

/**
 * Push through APNs end to end: a real Herald (API, Temporal worker, SQLite or PostgreSQL) signs
 * ES256 provider tokens and sends over HTTP/2 to a fake APNs (h2c on loopback, APNS_BASE_URL).
 */

const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);
let counter = 0;
const nextUser = () => `apns-user-${Date.now()}-${++counter}`;
const nextToken = () => randomBytes(32).toString('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Push through APNs (HTTP/2, token auth)', () => {
  let fake: FakeApns;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeApns();
    herald = await startHerald({ env: { APNS_BASE_URL: fake.url, HERALD_SENDER_ENV: 'ACME_APNS_KEY', ACME_APNS_KEY: fake.privateKeyPem } });
    campaignId = await livePushCampaignWith(herald, {
      name: 'Acme APNs',
      provider: 'apns',
      settings: { teamId: fake.teamId, keyId: fake.keyId, bundleId: fake.bundleId, privateKeyEnv: 'ACME_APNS_KEY' },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  const trigger = (body: PushTrigger) => triggerPush(herald, campaignId, 'apns', body);

  async function registeredUser() {
    const device = { userId: nextUser(), appID: fake.bundleId, platform: 'ios' as const, token: nextToken() };
    await profileWithPushToken(herald, device);
    return { userId: device.userId, token: device.token };
  }

  it('sends the stored token with an ES256 provider token, the topic and a UUID apns-id derived from the key', async () => {
    const { userId, token } = await registeredUser();
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'A-1' } }));
    const [request] = fake.requestsTo(token);
    expect(fake.requestsTo(token)).toHaveLength(1);
    expect(request!.status).toBe(200);
    expect(request!.headers['apns-topic']).toBe(fake.bundleId);
    expect(request!.headers['apns-push-type']).toBe('alert');
    expect(request!.headers['apns-id']).toMatch(UUID);
    expect(request!.payload).toEqual({
      orderId: '42',
      deepLink: 'myapp://orders/42',
      aps: { alert: { title: 'Order A-1 shipped', body: 'Hi Ada' }, sound: 'default' },
    });
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: request!.headers['apns-id'] });
  });

  it('sends to channelData.pushInfo rather than the stored token', async () => {
    const { userId, token: stored } = await registeredUser();
    const given = nextToken();
    const execution = await herald.waitForExecution(
      await trigger({
        recipients: [{ userId, namespace: 'crm', channelData: { pushInfo: { appID: fake.bundleId, platform: 'ios', token: given } } }],
        context: { orderId: 'B' },
      }),
    );
    expect(fake.requestsTo(given)).toHaveLength(1);
    expect(fake.requestsTo(stored)).toHaveLength(0);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('retries 429 (honouring Retry-After) and 503 with the same apns-id, and sends once', async () => {
    const { userId, token } = await registeredUser();
    const retryAfterSeconds = 2;
    fake.failNext(token, [{ status: 429, retryAfterSeconds }, { status: 503 }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'C' } }));
    const attempts = fake.requestsTo(token);
    expect(attempts.map((r) => r.status)).toEqual([429, 503, 200]);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    expect(new Set(attempts.map((r) => r.headers['apns-id'])).size).toBe(1);
    expect(fake.accepted.filter((n) => n.token === token)).toHaveLength(1);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('fails a message APNs refuses (400 BadDeviceToken) at once, with the reason, and keeps the token', async () => {
    const { userId, token } = await registeredUser();
    fake.failNext(token, [{ status: 400, reason: 'BadDeviceToken' }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'D' } }));
    expect(fake.requestsTo(token).map((r) => r.status)).toEqual([400]);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'failed', reason: 'provider-rejected: APNs 400 BadDeviceToken' });
    expect((await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens).toHaveLength(1);
  });

  it('fails an Unregistered token (410) at once and removes it from the profile', async () => {
    const { userId, token } = await registeredUser();
    fake.unregister(token);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'E' } }));
    expect(fake.requestsTo(token).map((r) => r.status)).toEqual([410]);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'failed', reason: 'push-token-gone: APNs 410 Unregistered' });
    expect((await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens).toEqual([]);
  });

  it('sends once however often the call is repeated; a retry after a lost answer replaces the shown notification (documented)', async () => {
    const { userId, token } = await registeredUser();
    const body = { requestId: uniqueRequestId('apns-repeat'), recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'G' } };
    const [first, second] = await Promise.all([trigger(body), trigger(body)]);
    expect(second).toBe(first);
    await herald.waitForExecution(first);
    expect(await trigger(body)).toBe(first);
    expect(fake.requestsTo(token)).toHaveLength(1);

    const lost = await registeredUser();
    fake.failNext(lost.token, [{ acceptThenReset: true }]);
    const execution = await herald.waitForExecution(await trigger({ recipients: [{ userId: lost.userId, namespace: 'crm' }], context: { orderId: 'H' } }));
    const attempts = fake.requestsTo(lost.token);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.headers['apns-id']).toBe(attempts[0]!.headers['apns-id']);
    expect(attempts[1]!.headers['apns-collapse-id']).toBe(attempts[0]!.headers['apns-collapse-id']);
    expect(fake.displayedOn(lost.token)).toHaveLength(1);
    expect(outcomeOf(execution, lost.userId)).toMatchObject({ status: 'sent', messageId: attempts[0]!.headers['apns-id'] });
  });
});
