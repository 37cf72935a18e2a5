import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeWebPush, type FakeWebPush } from '../support/fake-webpush';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * Push end to end: a real Herald (API, Temporal worker, SQLite or PostgreSQL) sends Web Push
 * (VAPID, aes128gcm, through the `web-push` library) to a fake push service on loopback, which
 * the subscription's endpoint names; and, without a configuration, to the outbox.
 */

const pushCampaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'Order shipped',
  type: 'transactional',
  channel: 'push',
  content: {
    title: 'Order {{ context.orderId }} shipped',
    body: 'Hi {{ profile.firstName }}, it arrives tomorrow.',
    data: { orderId: '42' },
    deepLink: 'myapp://orders/42',
  },
  audience: { namespace: 'crm', createMissingProfiles: true },
  ...overrides,
});

async function livePushCampaign(herald: Herald, overrides: Record<string, unknown> = {}): Promise<string> {
  const created = await herald.request('POST', '/v1/campaigns', pushCampaign(overrides));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return created.body.id as string;
}

const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);
let userCounter = 0;
const nextUser = () => `push-user-${Date.now()}-${++userCounter}`;
const ANDROID_TOKEN = 'dGVzdC1mY20tdG9rZW4:APA91bHunvR1_test-registration-token';

describe('Push through Web Push (VAPID)', () => {
  let fake: FakeWebPush;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeWebPush();
    herald = await startHerald({
      env: { HERALD_SENDER_ENV: 'ACME_VAPID_PUBLIC,ACME_VAPID_PRIVATE', ACME_VAPID_PUBLIC: fake.vapid.publicKey, ACME_VAPID_PRIVATE: fake.vapid.privateKey },
    });
    const configuration = await herald.request('POST', '/v1/channel-configurations', {
      name: 'Acme web push',
      channel: 'push',
      provider: 'webpush',
      settings: { vapidSubject: fake.vapid.subject, vapidPublicKeyEnv: 'ACME_VAPID_PUBLIC', vapidPrivateKeyEnv: 'ACME_VAPID_PRIVATE' },
    });
    expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
    campaignId = await livePushCampaign(herald, { channelConfigurationId: configuration.body.id });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  async function trigger(body: { requestId?: string; campaignId?: string; recipients: Record<string, unknown>[]; context?: Record<string, unknown> }) {
    const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('push'), campaignId, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.executionId as string;
  }

  /** A profile with one registered web subscription. */
  async function subscribedUser(attributes: Record<string, unknown> = { firstName: 'Ada' }) {
    const userId = nextUser();
    const subscription = fake.subscribe();
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes })).status).toBe(201);
    const registered = await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, {
      appID: 'https://shop.example',
      platform: 'web',
      token: subscription.json,
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    return { userId, subscription };
  }

  it('sends the stored subscription an encrypted {title, body, data, deepLink} with VAPID, and records the Location', async () => {
    const { userId, subscription } = await subscribedUser();
    const profile = await herald.request('GET', `/v1/profiles/crm/${userId}`);
    expect(profile.body.pushTokens).toEqual([
      {
        appID: 'https://shop.example',
        platform: 'web',
        token: JSON.stringify({ endpoint: subscription.endpoint, keys: JSON.parse(subscription.json).keys }),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);

    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'A-7' } });
    const execution = await herald.waitForExecution(executionId);

    const [request] = fake.requestsFor(subscription.id);
    expect(fake.requestsFor(subscription.id)).toHaveLength(1);
    expect(request!.status).toBe(201);
    expect(request!.headers.authorization).toMatch(/^vapid t=.+, k=/);
    expect(request!.headers['content-encoding']).toBe('aes128gcm');
    expect(request!.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.parse(request!.payload!)).toEqual({
      title: 'Order A-7 shipped',
      body: 'Hi Ada, it arrives tomorrow.',
      data: { orderId: '42' },
      deepLink: 'myapp://orders/42',
    });
    expect(fake.queuedFor(subscription.id)).toHaveLength(1);
    expect(execution.status).toBe('completed');
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: `${fake.url}/message/${fake.queuedFor(subscription.id)[0]!.id}` });
  });

  it('sends to channelData.pushInfo rather than the stored token', async () => {
    const { userId, subscription: stored } = await subscribedUser();
    const given = fake.subscribe();
    const executionId = await trigger({
      recipients: [{ userId, namespace: 'crm', channelData: { pushInfo: { appID: 'https://shop.example', platform: 'web', token: given.json } } }],
      context: { orderId: 'B' },
    });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsFor(given.id)).toHaveLength(1);
    expect(fake.requestsFor(stored.id)).toHaveLength(0);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('refuses a pushInfo that is not a subscription, and fails a recipient without tokens as no-push-token', async () => {
    const invalid = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('push-bad'),
      campaignId,
      recipients: [{ userId: nextUser(), namespace: 'crm', channelData: { pushInfo: { appID: 'a', platform: 'web', token: 'not json' } } }],
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('subscription');

    const userId = nextUser();
    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'C' } });
    const execution = await herald.waitForExecution(executionId);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'failed', reason: 'no-push-token' });
    expect(fake.requests).toHaveLength(0);
  });

  it('retries 429 (honouring Retry-After) and 503 until the push service accepts, and sends once', async () => {
    const { userId, subscription } = await subscribedUser();
    const retryAfterSeconds = 2;
    fake.failNext(subscription.id, [{ status: 429, retryAfterSeconds }, { status: 503 }]);
    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'D' } });
    const execution = await herald.waitForExecution(executionId);
    const attempts = fake.requestsFor(subscription.id);
    expect(attempts.map((r) => r.status)).toEqual([429, 503, 201]);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    expect(fake.accepted.filter((m) => m.subscriptionId === subscription.id)).toHaveLength(1);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent' });
  });

  it('fails a message the push service refuses (400) at once, with the reason, and keeps the token', async () => {
    const { userId, subscription } = await subscribedUser();
    fake.failNext(subscription.id, [{ status: 400 }]);
    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'E' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsFor(subscription.id).map((r) => r.status)).toEqual([400]);
    const outcome = outcomeOf(execution, userId);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.reason).toContain('provider-rejected');
    expect(outcome.reason).toContain('400');
    expect((await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens).toHaveLength(1);
  });

  it.each([410, 404] as const)('fails a gone subscription (%i) at once and removes it from the profile', async (status) => {
    const { userId, subscription } = await subscribedUser();
    const other = fake.subscribe();
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'https://shop.example', platform: 'web', token: other.json })).status,
    ).toBe(200);
    // The most recently registered token is the one sent to.
    fake.expire(other.id, status);
    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'F' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsFor(other.id).map((r) => r.status)).toEqual([status]);
    const outcome = outcomeOf(execution, userId);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.reason).toMatch(/^push-token-gone: Web Push 4(04|10)/);
    const tokens = (await herald.request('GET', `/v1/profiles/crm/${userId}`)).body.pushTokens;
    expect(tokens.map((t: any) => JSON.parse(t.token).endpoint)).toEqual([subscription.endpoint]);

    // The next message goes to the remaining device.
    const next = await herald.waitForExecution(await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'G' } }));
    expect(outcomeOf(next, userId)).toMatchObject({ status: 'sent' });
    expect(fake.requestsFor(subscription.id)).toHaveLength(1);
  });

  it('sends once per recipient however often the call is repeated', async () => {
    const { userId, subscription } = await subscribedUser();
    const body = { requestId: uniqueRequestId('push-repeat'), recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'H' } };
    const [first, second] = await Promise.all([trigger(body), trigger(body)]);
    expect(second).toBe(first);
    await herald.waitForExecution(first);
    expect(await trigger(body)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await herald.waitForExecution(first);
    expect(fake.requestsFor(subscription.id)).toHaveLength(1);
    expect(fake.accepted.filter((m) => m.subscriptionId === subscription.id)).toHaveLength(1);
  });

  it('collapses a retry after a lost answer into the queued message through the same Topic (documented)', async () => {
    const { userId, subscription } = await subscribedUser();
    fake.failNext(subscription.id, [{ acceptThenDrop: true }]);
    const executionId = await trigger({ recipients: [{ userId, namespace: 'crm' }], context: { orderId: 'I' } });
    const execution = await herald.waitForExecution(executionId);
    const attempts = fake.requestsFor(subscription.id);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.headers.topic).toBe(attempts[0]!.headers.topic);
    // Two requests reached the service, one notification waits for the browser.
    expect(fake.accepted.filter((m) => m.subscriptionId === subscription.id)).toHaveLength(2);
    expect(fake.queuedFor(subscription.id)).toHaveLength(1);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: `${fake.url}/message/${fake.queuedFor(subscription.id)[0]!.id}` });
  });

  it('refuses a device the provider cannot reach (an Android token through Web Push)', async () => {
    const userId = nextUser();
    const executionId = await trigger({
      recipients: [{ userId, namespace: 'crm', channelData: { pushInfo: { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN } } }],
      context: { orderId: 'J' },
    });
    const execution = await herald.waitForExecution(executionId);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'failed', reason: expect.stringContaining('cannot reach android devices') });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('Push content, review and the outbox', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('checks push content on save and at review', async () => {
    const unsafe = await herald.request('POST', '/v1/campaigns', pushCampaign({ content: { title: '{{ constructor }}', body: 'ok' } }));
    expect(unsafe.status).toBe(400);
    expect(JSON.stringify(unsafe.body.errors)).toContain('constructor');

    const bad = await herald.request(
      'POST',
      '/v1/campaigns',
      pushCampaign({
        content: { default: { title: ' ', body: 'ok', data: { n: 1 }, deepLink: 'javascript://x' }, translations: { fr: { title: 'Salut', body: '' } } },
      }),
    );
    expect(bad.status, JSON.stringify(bad.body)).toBe(201);
    const review = await herald.request('POST', `/v1/campaigns/${bad.body.id}/activate`);
    expect(review.status).toBe(422);
    expect(review.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'content.default.title', message: 'a push campaign needs a title' },
        { field: 'content.default.data.n', message: 'push data values must be strings' },
        { field: 'content.default.deepLink', message: expect.stringContaining('deep link') },
        { field: 'content.translations.fr.body', message: 'a push campaign needs a body' },
      ]),
    );

    const smsShaped = await herald.request('POST', '/v1/campaigns', pushCampaign({ content: { body: 'Hi' } }));
    expect(smsShaped.status).toBe(201);
    expect((await herald.request('POST', `/v1/campaigns/${smsShaped.body.id}/activate`)).body.errors).toEqual([
      { field: 'content.title', message: 'a push campaign needs a title and a body' },
    ]);
  });

  it('refuses a push configuration whose key variable the worker does not have at review', async () => {
    const configuration = await herald.request('POST', '/v1/channel-configurations', {
      name: 'APNs',
      channel: 'push',
      provider: 'apns',
      settings: { teamId: 'ABCDE12345', keyId: 'KEY1234567', bundleId: 'com.example.app', privateKeyEnv: 'ACME_APNS_KEY' },
    });
    expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
    const created = await herald.request('POST', '/v1/campaigns', pushCampaign({ channelConfigurationId: configuration.body.id }));
    const review = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(review.status).toBe(422);
    expect(review.body.errors).toContainEqual({
      field: 'channelConfigurationId',
      message: `channel configuration ${configuration.body.id} names the environment variable ACME_APNS_KEY, which is not set for the worker`,
    });
  });

  it('registers tokens only on an existing profile, validating them per platform', async () => {
    const userId = nextUser();
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN })).status,
    ).toBe(404);
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes: {} })).status).toBe(201);
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'ios', token: 'not-hex' })).status,
    ).toBe(400);
    const put = () => herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN });
    expect((await put()).status).toBe(200);
    const again = await put();
    expect(again.status).toBe(200);
    expect(again.body.pushTokens).toEqual([expect.objectContaining({ appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN })]);
  });

  it('previews a push message: the device from pushInfo or the stored tokens, no-push-token without, and sends nothing', async () => {
    const created = await herald.request('POST', '/v1/campaigns', pushCampaign());
    const preview = (recipient: Record<string, unknown>) =>
      herald.request('POST', `/v1/campaigns/${created.body.id}/preview`, { recipient: { namespace: 'crm', ...recipient }, context: { orderId: 'P' } });
    const userId = nextUser();
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes: { firstName: 'Mo' } })).status).toBe(201);
    const none = await preview({ userId });
    expect(none.status, JSON.stringify(none.body)).toBe(200);
    expect(none.body).toMatchObject({ decision: { status: 'failed', reason: 'no-push-token' }, exclusions: ['no-push-token'], address: null });

    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN })).status,
    ).toBe(200);
    const stored = await preview({ userId });
    expect(stored.body).toMatchObject({
      decision: { status: 'would-send' },
      address: JSON.stringify({ appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN }),
      rendered: { subject: 'Order P shipped', text: 'Hi Mo, it arrives tomorrow.' },
    });

    const given = await preview({ userId, channelData: { pushInfo: { appID: 'com.example.app', platform: 'ios', token: 'ab'.repeat(32) } } });
    expect(JSON.parse(given.body.address)).toEqual({ appID: 'com.example.app', platform: 'ios', token: 'ab'.repeat(32) });
    expect((await herald.request('GET', `/v1/outbox?campaignId=${created.body.id}`)).body.items).toEqual([]);
  });

  it('goes to the outbox without a configuration: title in subject, body in text, {data, deepLink} in html', async () => {
    const campaignId = await livePushCampaign(herald);
    const userId = nextUser();
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes: { firstName: 'Lin' } })).status).toBe(201);
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN })).status,
    ).toBe(200);
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('push-outbox'),
      campaignId,
      recipients: [{ userId, namespace: 'crm' }],
      context: { orderId: '9' },
    });
    expect(res.status).toBe(202);
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(outcomeOf(execution, userId)).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^outbox_/) });
    const outbox = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    expect(outbox.body.items).toEqual([
      expect.objectContaining({
        channel: 'push',
        to: JSON.stringify({ appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN }),
        subject: 'Order 9 shipped',
        text: 'Hi Lin, it arrives tomorrow.',
        html: JSON.stringify({ data: { orderId: '42' }, deepLink: 'myapp://orders/42' }),
        userId,
      }),
    ]);
  });
});
