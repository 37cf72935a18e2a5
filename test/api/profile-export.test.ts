import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'export-boot-key-0123456789abcdef';

/**
 * GET /v1/profiles/{namespace}/{userId}/export (GDPR Art. 15, 20) on a real Herald: a person with
 * attributes, consents, a push token, a tracked and clicked marketing email, a one-click
 * unsubscribe and a suppression gets all of it back as JSON; a large history comes a page at a time.
 */
describe('exporting a person', () => {
  let resend: FakeResend;
  let herald: Herald;
  let full: Requester;
  const tag = randomUUID().slice(0, 8);
  const USER_ID = `exported-${tag}`;
  const EMAIL = `grace.${tag}@example.com`;
  const TOKEN = `token-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: 're_export_key' });
    herald = await startHerald({
      env: {
        HERALD_API_KEYS: BOOT,
        RESEND_API_KEY: 're_export_key',
        RESEND_BASE_URL: resend.url,
        HERALD_TRACKING_SECRET: randomBytes(32).toString('base64url'),
      },
    });
    full = withKey(herald, BOOT);
  });
  afterAll(async () => {
    await herald?.stop();
    await resend?.close();
  });

  async function waitFor(executionId: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('returns the profile, consents and their history, push tokens, deliveries with content and events, and suppressions', async () => {
    const created = await full('POST', '/v1/campaigns', {
      name: 'News',
      type: 'marketing',
      channel: 'email',
      content: {
        subject: 'News for {{ profile.firstName }}',
        html: '<p>Hi {{ profile.firstName }}</p><a href="https://example.com/news">Read</a>',
        text: 'Hi',
      },
      audience: { namespace: 'crm', createMissingProfiles: false },
      tracking: { clicks: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.id as string;
    expect((await full('POST', `/v1/campaigns/${campaignId}/activate`)).status).toBe(200);
    expect(
      (await full('PUT', `/v1/profiles/crm/${USER_ID}`, { attributes: { firstName: 'Grace', email: EMAIL }, consents: { email: 'in' }, locale: 'en-GB' }))
        .status,
    ).toBe(201);
    expect((await full('PUT', `/v1/profiles/crm/${USER_ID}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: TOKEN })).status).toBe(200);

    const triggered = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('export'),
      campaignId,
      recipients: [{ userId: USER_ID, namespace: 'crm' }],
    });
    expect(triggered.status).toBe(202);
    const executionId = triggered.body.executionId as string;
    expect((await waitFor(executionId)).recipients[0]).toMatchObject({ status: 'sent' });
    const sent = resend.deliveries.find((d) => d.to.includes(EMAIL))!;
    const click = /href="[^"]*(\/t\/c\/[^"]+)"/.exec(sent.html!)![1]!;
    expect((await fetch(`${herald.baseUrl}${click}`, { redirect: 'manual', headers: { 'user-agent': 'ExportTest/1.0' } })).status).toBe(302);
    const unsubscribe = new URL(/^<([^>]+)>/.exec(sent.body.headers['List-Unsubscribe'])![1]!);
    const oneClick = await fetch(`${herald.baseUrl}${unsubscribe.pathname.slice(unsubscribe.pathname.indexOf('/u/'))}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBeLessThan(300);
    expect((await full('POST', '/v1/suppressions', { channel: 'email', address: EMAIL })).status).toBe(201);

    const exported = await full('GET', `/v1/profiles/crm/${USER_ID}/export`);
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    const body = exported.body;
    expect(body).toMatchObject({
      namespace: 'crm',
      userId: USER_ID,
      profile: {
        id: expect.stringMatching(/^prf_[0-9a-f]{32}$/),
        attributes: { firstName: 'Grace', email: EMAIL },
        consents: { email: 'out' },
        locale: 'en-GB',
        autoCreated: false,
      },
      pushTokens: [{ appID: 'com.example.app', platform: 'android', token: TOKEN, createdAt: expect.any(String), updatedAt: expect.any(String) }],
      audienceMemberships: [],
      suppressions: [{ channel: 'email', address: EMAIL, reason: 'manual', createdAt: expect.any(String) }],
      truncated: false,
      historyTruncated: false,
    });
    expect(body.history.map((e: { action: string }) => e.action)).toEqual(['profile.created', 'profile.updated', 'profile.updated']);
    expect(body.history[2]).toMatchObject({ actor: 'public:unsubscribe', after: { consents: { email: 'out' }, via: 'one-click unsubscribe', executionId } });
    expect(body.deliveries).toHaveLength(1);
    expect(body.deliveries[0]).toMatchObject({
      executionId,
      campaignId,
      campaignName: 'News',
      position: 0,
      channel: 'email',
      status: 'sent',
      address: EMAIL,
      messageId: sent.id,
      rendered: { subject: 'News for Grace', html: expect.stringContaining('Hi Grace'), text: 'Hi' },
      triggeredAt: expect.any(String),
    });
    expect(body.deliveries[0].events.map((e: any) => [e.type, e.url, e.userAgent])).toEqual(
      expect.arrayContaining([
        ['clicked', 'https://example.com/news', 'ExportTest/1.0'],
        ['unsubscribed', undefined, 'node'],
      ]),
    );

    // Full scope only; an unknown person is 404, a bad cursor 400.
    const triggerKey = await createApiKey(full, { scope: 'trigger' });
    expect((await withKey(herald, triggerKey.key)('GET', `/v1/profiles/crm/${USER_ID}/export`)).status).toBe(403);
    expect((await full('GET', `/v1/profiles/crm/nobody-${tag}/export`)).status).toBe(404);
    const bad = await full('GET', `/v1/profiles/crm/${USER_ID}/export?cursor=garbage`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('pages a long history of deliveries, 1000 at a time, newest first', async () => {
    const userId = `many-${tag}`;
    const campaign = (await herald.db.selectFrom('campaigns').select(['id', 'version']).executeTakeFirstOrThrow())!;
    const now = new Date().toISOString();
    // 1001 executions of one recipient each, written directly: the export's bound, not sending, is under test.
    const ids = Array.from({ length: 1001 }, (_, i) => `01EXPORT${tag.toUpperCase()}${String(i).padStart(10, '0')}`);
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      await herald.db
        .insertInto('executions')
        .values(
          chunk.map((id) => ({
            id,
            request_id: `req-${id}`,
            request_hash: 'x',
            campaign_id: campaign.id,
            campaign_version: campaign.version,
            workflow_id: `wf-${id}`,
            status: 'completed' as const,
            failure_reason: null,
            created_at: now,
            completed_at: now,
            workflow_checked_at: null,
            context: null,
            started_by_key_id: null,
            details_purged_at: null,
          })),
        )
        .execute();
      await herald.db
        .insertInto('deliveries')
        .values(
          chunk.map((id) => ({
            execution_id: id,
            user_id: userId,
            position: 0,
            namespace: 'crm',
            channel: 'email' as const,
            status: 'sent' as const,
            reason: null,
            address: `${userId}@example.com`,
            message_id: null,
            updated_at: now,
            context: null,
            channel_data: null,
          })),
        )
        .execute();
    }
    const first = await full('GET', `/v1/profiles/crm/${userId}/export`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ profile: null, truncated: true, nextCursor: expect.any(String) });
    expect(first.body.deliveries).toHaveLength(1000);
    expect(first.body.deliveries[0].executionId).toBe(ids[1000]);
    const second = await full('GET', `/v1/profiles/crm/${userId}/export?cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ truncated: false });
    expect(second.body).not.toHaveProperty('nextCursor');
    expect(second.body.deliveries.map((d: { executionId: string }) => d.executionId)).toEqual([ids[0]]);
  });
});
