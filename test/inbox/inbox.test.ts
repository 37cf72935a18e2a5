import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxRepository } from '../../src/repositories/inbox';
import { withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { openStream } from './sse-stream';

const BOOT = 'inbox-boot-key-0123456789abcdef';
const SECRET = randomBytes(32).toString('base64url');

/**
 * The in-app channel end to end on a real Herald (API, Temporal worker, the suite's database)
 * over HTTP: an inApp campaign's send stores the message in the person's inbox; the feed, its
 * changes and the live stream answer it with a subscriber token.
 */
describe('inbox', () => {
  let herald: Herald;
  let full: Requester;
  const NS = `inbox-${randomUUID().slice(0, 8)}`;
  let campaignId: string;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT, HERALD_TRACKING_SECRET: SECRET } });
    full = withKey(herald, BOOT);
    const created = await full('POST', '/v1/campaigns', {
      name: 'Order shipped',
      type: 'transactional',
      channel: 'inApp',
      content: {
        title: 'Order {{ context.orderId }} shipped',
        body: 'Hi {{ profile.firstName }}, it arrives tomorrow & <b>early</b>.',
        actionUrl: 'https://example.com/orders',
        data: { kind: 'order', nested: { count: 2 } },
      },
      audience: { namespace: NS, createMissingProfiles: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    campaignId = created.body.id;
    const activated = await full('POST', `/v1/campaigns/${campaignId}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  });
  afterAll(async () => {
    await herald?.stop();
  });

  /** A subscriber's requester kept under the per-person rate (10 calls/s). */
  function asSubscriber(token: string): Requester {
    const call = withKey(herald, token);
    let last = 0;
    return async (...args) => {
      const wait = last + 110 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      last = Date.now();
      return call(...args);
    };
  }
  async function tokenFor(userId: string): Promise<string> {
    const made = await full('POST', '/v1/inbox/tokens', { namespace: NS, userId, ttlSeconds: 600 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body.token;
  }
  async function send(userId: string, orderId: string) {
    const res = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('inbox'),
      campaignId,
      recipients: [{ userId, namespace: NS, context: { orderId } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${res.body.executionId}`);
      if (body?.status && body.status !== 'running') return { ...body, executionId: res.body.executionId as string };
      if (Date.now() > deadline) throw new Error(`execution still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('refuses in-app content with an unsafe action URL, and reviews a missing title', async () => {
    const unsafe = await full('POST', '/v1/campaigns', {
      name: 'Bad',
      type: 'transactional',
      channel: 'inApp',
      content: { title: 'x', body: 'y', actionUrl: 'javascript:alert(1)' },
      audience: { namespace: NS },
    });
    expect(unsafe.status).toBe(400);
    const untitled = await full('POST', '/v1/campaigns', {
      name: 'Untitled',
      type: 'transactional',
      channel: 'inApp',
      content: { title: ' ', body: 'y' },
      audience: { namespace: NS },
    });
    expect(untitled.status, JSON.stringify(untitled.body)).toBe(201);
    const activated = await full('POST', `/v1/campaigns/${untitled.body.id}/activate`);
    expect(activated.status).toBe(422);
    expect(JSON.stringify(activated.body)).toContain('an in-app campaign needs a title');
  });

  it('a send stores the message in the inbox; the feed lists it, filters, changes it and marks all read', async () => {
    const profile = await full('PUT', `/v1/profiles/${NS}/ada`, { attributes: { firstName: 'Ada' } });
    expect([200, 201], JSON.stringify(profile.body)).toContain(profile.status);
    const execution = await send('ada', 'A-1');
    expect(execution.recipients[0].status, JSON.stringify(execution)).toBe('sent');
    const ada = asSubscriber(await tokenFor('ada'));
    const feed = await ada('GET', '/v1/inbox/messages');
    expect(feed.status, JSON.stringify(feed.body)).toBe(200);
    expect(feed.body.unreadCount).toBe(1);
    expect(feed.body.nextCursor).toBeNull();
    const [first] = feed.body.items;
    expect(first).toMatchObject({
      campaignId,
      title: 'Order A-1 shipped',
      body: 'Hi Ada, it arrives tomorrow & <b>early</b>.',
      actionUrl: 'https://example.com/orders',
      data: { kind: 'order', nested: { count: 2 } },
      seenAt: null,
      readAt: null,
      archivedAt: null,
    });
    // The delivery records the inbox message's id; a retried send of the same delivery stores nothing new.
    const delivery = await herald.db
      .selectFrom('deliveries')
      .select(['message_id', 'execution_id', 'position'])
      .where('execution_id', '=', execution.executionId)
      .executeTakeFirstOrThrow();
    expect(delivery.message_id).toBe(first.id);
    const again = await new InboxRepository(herald.db).store({
      namespace: NS,
      userId: 'ada',
      campaignId,
      executionId: delivery.execution_id,
      position: delivery.position,
      title: 'again',
      body: 'again',
    });
    expect(again.messageId).toBe(first.id);

    await send('ada', 'A-2');
    await send('ada', 'A-3');
    const all = await ada('GET', '/v1/inbox/messages?limit=2');
    expect(all.body.items.map((m: { title: string }) => m.title)).toEqual(['Order A-3 shipped', 'Order A-2 shipped']);
    expect(all.body.unreadCount).toBe(3);
    const older = await ada('GET', `/v1/inbox/messages?limit=2&cursor=${all.body.nextCursor}`);
    expect(older.body.items.map((m: { title: string }) => m.title)).toEqual(['Order A-1 shipped']);
    expect(older.body.nextCursor).toBeNull();
    expect((await ada('GET', '/v1/inbox/messages?cursor=nonsense')).status).toBe(400);

    const read = await ada('PATCH', `/v1/inbox/messages/${first.id}`, { read: true });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.readAt).not.toBeNull();
    expect(read.body.seenAt).not.toBeNull();
    const titles = async (status: string) =>
      (await ada('GET', `/v1/inbox/messages?status=${status}`)).body.items.map((m: { title: string }) => m.title) as string[];
    expect(await titles('read')).toEqual(['Order A-1 shipped']);
    expect(await titles('unread')).toEqual(['Order A-3 shipped', 'Order A-2 shipped']);

    const archived = await ada('PATCH', `/v1/inbox/messages/${all.body.items[0].id}`, { archived: true });
    expect(archived.body.archivedAt).not.toBeNull();
    expect(await titles('archived')).toEqual(['Order A-3 shipped']);
    expect(await titles('all')).toEqual(['Order A-2 shipped', 'Order A-1 shipped']);
    expect((await ada('GET', '/v1/inbox/messages')).body.unreadCount).toBe(1);

    const unread = await ada('PATCH', `/v1/inbox/messages/${first.id}`, { read: false });
    expect(unread.body.readAt).toBeNull();
    expect((await ada('PATCH', `/v1/inbox/messages/${first.id}`, {})).status).toBe(400);

    const readAll = await ada('POST', '/v1/inbox/messages/read-all');
    expect(readAll.status, JSON.stringify(readAll.body)).toBe(200);
    expect(readAll.body).toEqual({ updated: 2, unreadCount: 0 });
    expect(await titles('unread')).toEqual([]);
    // Seen and read are outcomes, once per message: in the campaign's report (A-1 and A-2; A-3 was archived unseen).
    const report = await full('GET', `/v1/campaigns/${campaignId}/report`);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.totals.inApp).toEqual({ seen: 2, read: 2 });

    // Another person's message id is not found; a tampered token is refused.
    const grace = asSubscriber(await tokenFor('grace'));
    expect((await grace('PATCH', `/v1/inbox/messages/${first.id}`, { read: true })).status).toBe(404);
    expect((await grace('GET', '/v1/inbox/messages')).body.items).toEqual([]);
    const token = await tokenFor('ada');
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await withKey(herald, tampered)('GET', '/v1/inbox/messages')).status).toBe(401);
    const stream = await openStream(herald.baseUrl, tampered);
    expect(stream.status).toBe(401);
    // An API key is no subscriber token.
    expect((await full('GET', '/v1/inbox/messages')).status).toBe(401);
  });

  it('the stream delivers a new message live and resumes after Last-Event-ID', async () => {
    const token = await tokenFor('linus');
    const stream = await openStream(herald.baseUrl, token);
    try {
      expect(stream.status).toBe(200);
      await stream.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 0);
      await send('linus', 'L-1');
      // How soon it arrives is the bench's (npm run bench:inbox-stream), not a test's.
      const message = await stream.next((e) => e.event === 'message');
      const first = JSON.parse(message.data);
      expect(first).toMatchObject({ campaignId, title: 'Order L-1 shipped', readAt: null });
      expect(message.id).toBe(first.id);
      await stream.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 1);

      // A change tells the stream the new count.
      const linus = asSubscriber(token);
      expect((await linus('PATCH', `/v1/inbox/messages/${first.id}`, { read: true })).status).toBe(200);
      await stream.next((e) => e.event === 'unread-count' && JSON.parse(e.data).unreadCount === 0 && stream.events.indexOf(e) > stream.events.indexOf(message));
    } finally {
      stream.close();
    }

    // Away: two messages arrive; the reconnect replays both, oldest first.
    const firstId = (await withKey(herald, token)('GET', '/v1/inbox/messages')).body.items[0].id as string;
    await send('linus', 'L-2');
    await send('linus', 'L-3');
    const resumed = await openStream(herald.baseUrl, token, firstId);
    try {
      expect(resumed.status).toBe(200);
      await resumed.next((e) => e.event === 'message' && JSON.parse(e.data).title === 'Order L-3 shipped');
      const replayed = resumed.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).title);
      expect(replayed).toEqual(['Order L-2 shipped', 'Order L-3 shipped']);
    } finally {
      resumed.close();
    }
  });

  it("export lists a person's inbox messages and erasure deletes them", async () => {
    await send('erin', 'E-1');
    const exported = await full('GET', `/v1/profiles/${NS}/erin/export`);
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    expect(exported.body.inboxMessages).toMatchObject([{ campaignId, title: 'Order E-1 shipped', readAt: null }]);
    const erased = await full('DELETE', `/v1/profiles/${NS}/erin`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased).toMatchObject({ inboxMessages: 1 });
    expect((await withKey(herald, await tokenFor('erin'))('GET', '/v1/inbox/messages')).body.items).toEqual([]);
  });

  it('holds at most three streams per person', async () => {
    const token = await tokenFor('many');
    const streams = [await openStream(herald.baseUrl, token), await openStream(herald.baseUrl, token), await openStream(herald.baseUrl, token)];
    try {
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
      const fourth = await openStream(herald.baseUrl, token);
      expect(fourth.status).toBe(429);
      fourth.close();
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
