import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxRepository } from '../../src/repositories/inbox';
import { withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'inbox-action-url-boot-key-0123456789';

/**
 * The in-app action URL as a template, and an in-app audience sent a block at a time, on a real
 * Herald: a unitary trigger, a topic fan-out and the preview render the action URL with the
 * title and body; the fan-out stores its messages in one insert, idempotently.
 */
describe('in-app action URLs and blocks', () => {
  let herald: Herald;
  let full: Requester;
  const NS = `inapp-url-${randomUUID().slice(0, 8)}`;
  let campaignId: string;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT, HERALD_TRACKING_SECRET: randomBytes(32).toString('base64url') } });
    full = withKey(herald, BOOT);
    campaignId = await liveCampaign({
      title: 'Order {{ context.orderId }} shipped',
      body: 'Hi {{ profile.firstName }}.',
      actionUrl: '/orders/{{ context.orderId }}?for={{ profile.firstName | urlencode }}',
      data: { kind: 'order' },
    });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  async function liveCampaign(content: Record<string, unknown>): Promise<string> {
    const created = await full('POST', '/v1/campaigns', {
      name: `In-app ${randomUUID().slice(0, 6)}`,
      type: 'transactional',
      channel: 'inApp',
      content,
      audience: { namespace: NS, createMissingProfiles: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await full('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    return created.body.id;
  }
  async function profile(userId: string) {
    const res = await full('PUT', `/v1/profiles/${NS}/${userId}`, { attributes: { firstName: `${userId} Q` } });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }
  async function finished(executionId: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  async function feed(userId: string) {
    const made = await full('POST', '/v1/inbox/tokens', { namespace: NS, userId, ttlSeconds: 600 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const res = await withKey(herald, made.body.token)('GET', '/v1/inbox/messages');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items as { title: string; actionUrl: string | null; data: unknown }[];
  }

  it('a trigger stores the action URL rendered with its context and profile, as the preview shows it', async () => {
    await profile('ada');
    const triggered = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('inapp-url'),
      campaignId,
      recipients: [{ namespace: NS, userId: 'ada', context: { orderId: '42' } }],
    });
    expect(triggered.status, JSON.stringify(triggered.body)).toBe(202);
    expect(await finished(triggered.body.executionId)).toMatchObject({ status: 'completed', counts: { sent: 1 } });
    expect(await feed('ada')).toMatchObject([{ title: 'Order 42 shipped', actionUrl: '/orders/42?for=ada%20Q', data: { kind: 'order' } }]);

    const preview = await full('POST', `/v1/campaigns/${campaignId}/preview`, {
      recipient: { namespace: NS, userId: 'ada' },
      context: { orderId: '7' },
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body).toMatchObject({ decision: { status: 'would-send' }, rendered: { subject: 'Order 7 shipped', text: 'Hi ada Q.' } });
    expect(JSON.parse(preview.body.rendered.html)).toEqual({ actionUrl: '/orders/7?for=ada%20Q', data: { kind: 'order' } });
  });

  it('refuses a literal bad action URL, and fails the message whose action URL renders to one', async () => {
    const bad = await full('POST', '/v1/campaigns', {
      name: 'Bad',
      type: 'transactional',
      channel: 'inApp',
      content: { title: 'x', body: 'y', actionUrl: 'javascript:{{ context.code }}' },
      audience: { namespace: NS },
    });
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    const rendersBad = await liveCampaign({ title: 'x', body: 'y', actionUrl: '{{ context.url }}' });
    await profile('bob');
    const triggered = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('inapp-url'),
      campaignId: rendersBad,
      recipients: [{ namespace: NS, userId: 'bob', context: { url: 'javascript:alert(1)' } }],
    });
    expect(await finished(triggered.body.executionId)).toMatchObject({ status: 'completed', counts: { sent: 0, failed: 1 } });
    const recipients = await full('GET', `/v1/executions/${triggered.body.executionId}/recipients?limit=10`);
    expect(recipients.body.items[0].reason).toMatch(/^invalid-action-url: /);
    expect(await feed('bob')).toEqual([]);
  });

  it('a topic fan-out renders each action URL and stores the messages a block at a time, once', async () => {
    const people = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    for (const userId of people) await profile(userId);
    const key = `inapp-${randomUUID().slice(0, 8)}`;
    expect((await full('POST', '/v1/topics', { key, name: key })).status).toBe(201);
    const subscribed = await full('PUT', `/v1/topics/${key}/subscribers`, { subscribers: people.map((userId) => ({ namespace: NS, userId })) });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);
    const accepted = await full('POST', '/v1/executions/topic', {
      requestId: uniqueRequestId('inapp-topic'),
      campaignId,
      topic: key,
      context: { orderId: '9' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const executionId: string = accepted.body.executionId;
    expect(await finished(executionId)).toMatchObject({ status: 'completed', counts: { sent: people.length, failed: 0 } });
    expect(await feed('p07')).toMatchObject([{ title: 'Order 9 shipped', actionUrl: '/orders/9?for=p07%20Q' }]);

    // Each delivery records the id of the message its block stored; the same block stored again stores nothing new.
    const rows = await herald.db
      .selectFrom('inbox_messages')
      .select(['id', 'position', 'namespace', 'user_id', 'campaign_id', 'title', 'body', 'action_url'])
      .where('execution_id', '=', executionId)
      .orderBy('position')
      .execute();
    expect(rows).toHaveLength(people.length);
    const deliveries = await herald.db
      .selectFrom('deliveries')
      .select(['position', 'message_id'])
      .where('execution_id', '=', executionId)
      .orderBy('position')
      .execute();
    expect(deliveries.map((d) => d.message_id)).toEqual(rows.map((row) => row.id));
    const again = await new InboxRepository(herald.db).storeMany(
      rows.map((row) => ({
        namespace: row.namespace,
        userId: row.user_id,
        campaignId: row.campaign_id,
        executionId,
        position: row.position,
        title: 'other',
        body: row.body,
      })),
    );
    expect(again).toEqual(rows.map((row) => ({ position: row.position, messageId: row.id })));
    const after = await herald.db.selectFrom('inbox_messages').select(['title']).where('execution_id', '=', executionId).execute();
    expect(after.every((row) => row.title === 'Order 9 shipped')).toBe(true);
  });
});
