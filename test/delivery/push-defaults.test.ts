import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeWebPush, type FakeWebPush } from '../support/fake-webpush';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * The push channel's default, per platform, from the environment: a campaign with no channel
 * configuration sends web targets through Web Push when VAPID_* are set (here, the fake push
 * service on loopback), and android targets to the outbox when FCM_* are not, listed by
 * GET /v1/outbox although email and SMS have other providers. Real HTTP, real Temporal.
 */

let userCounter = 0;
const nextUser = () => `push-default-${Date.now()}-${++userCounter}`;
const ANDROID_TOKEN = 'dGVzdC1mY20tdG9rZW4:APA91bHunvR1_default-registration-token';

describe('Push without a channel configuration: the default per platform', () => {
  let fake: FakeWebPush;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeWebPush();
    herald = await startHerald({
      env: {
        VAPID_SUBJECT: fake.vapid.subject,
        VAPID_PUBLIC_KEY: fake.vapid.publicKey,
        VAPID_PRIVATE_KEY: fake.vapid.privateKey,
        // Email and SMS do not use the outbox: only push's android default keeps /v1/outbox.
        HERALD_EMAIL_PROVIDER: 'resend',
        RESEND_API_KEY: 're_test_unused',
        HERALD_SMS_PROVIDER: 'twilio',
      },
    });
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'Order shipped (default provider)',
      type: 'transactional',
      channel: 'push',
      content: {
        title: 'Order {{ context.orderId }} shipped',
        body: 'Hi {{ profile.firstName }}, it arrives tomorrow.',
        data: { orderId: '42' },
        deepLink: 'myapp://orders/42',
      },
      audience: { namespace: 'crm', createMissingProfiles: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    campaignId = created.body.id as string;
    const activated = await herald.request('POST', `/v1/campaigns/${campaignId}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  async function trigger(userId: string, orderId: string): Promise<any> {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('push-default'),
      campaignId,
      recipients: [{ userId, namespace: 'crm' }],
      context: { orderId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return herald.waitForExecution(res.body.executionId);
  }

  it('sends a web target through Web Push with VAPID_* (nothing in the outbox)', async () => {
    const userId = nextUser();
    const subscription = fake.subscribe();
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes: { firstName: 'Ada' } })).status).toBe(201);
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'https://shop.example', platform: 'web', token: subscription.json }))
        .status,
    ).toBe(200);

    const execution = await trigger(userId, 'W-1');
    const outcome = execution.recipients.find((r: any) => r.userId === userId);
    expect(fake.queuedFor(subscription.id)).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'sent', messageId: `${fake.url}/message/${fake.queuedFor(subscription.id)[0]!.id}` });
    const outbox = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    expect(outbox.status).toBe(200);
    expect(outbox.body.items.filter((item: any) => item.userId === userId)).toEqual([]);
  });

  it('sends an android target to the outbox without FCM_*, listed by GET /v1/outbox', async () => {
    const userId = nextUser();
    expect((await herald.request('PUT', `/v1/profiles/crm/${userId}`, { attributes: { firstName: 'Lin' } })).status).toBe(201);
    expect(
      (await herald.request('PUT', `/v1/profiles/crm/${userId}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN })).status,
    ).toBe(200);

    const execution = await trigger(userId, 'A-1');
    expect(execution.recipients.find((r: any) => r.userId === userId)).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^outbox_/) });
    expect(fake.requests).toHaveLength(0);
    const outbox = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    expect(outbox.status).toBe(200);
    expect(outbox.body.items.filter((item: any) => item.userId === userId)).toEqual([
      expect.objectContaining({
        channel: 'push',
        to: JSON.stringify({ appID: 'com.example.app', platform: 'android', token: ANDROID_TOKEN }),
        subject: 'Order A-1 shipped',
        text: 'Hi Lin, it arrives tomorrow.',
      }),
    ]);
  });
});
