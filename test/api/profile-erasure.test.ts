import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectOf } from '../../src/db/dialect';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'erasure-boot-key-0123456789abcdef';
const SECRET = randomBytes(32).toString('base64url');

/**
 * Erasure (DELETE /v1/profiles/{namespace}/{userId}) end to end on a real Herald (API, Temporal
 * worker, the suite's database): a person is sent email (tracked, clicked), SMS and push, is in a
 * static audience and on the suppression list; after the erasure the database holds none of their
 * address, phone number, push token or userId (SQLite: the raw bytes of the files; PostgreSQL:
 * every text column of every table), the counts stay, the audit log keeps the facts without the
 * person, and the address is still refused at send time.
 */
describe('erasing a person', () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let herald: Herald;
  let full: Requester;

  const tag = randomUUID().slice(0, 8);
  const USER_ID = `erasable-${tag}`;
  const EMAIL = `ada.erasable.${tag}@example.com`;
  const PHONE = `+4479${String(parseInt(tag.slice(0, 6), 16) % 100_000_000).padStart(8, '0')}`;
  const TOKEN = `device-token-${tag}-${randomBytes(12).toString('hex')}`;
  const secrets = () => [USER_ID, EMAIL, PHONE, TOKEN];

  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: 're_erasure_key' });
    twilio = await startFakeTwilio();
    herald = await startHerald({
      env: {
        HERALD_API_KEYS: BOOT,
        RESEND_API_KEY: 're_erasure_key',
        RESEND_BASE_URL: resend.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_BASE_URL: twilio.url,
        HERALD_TRACKING_SECRET: SECRET,
      },
    });
    full = withKey(herald, BOOT);
  });
  afterAll(async () => {
    await herald?.stop();
    await resend?.close();
    await twilio?.close();
  });

  async function liveCampaign(body: Record<string, unknown>): Promise<string> {
    const created = await full('POST', '/v1/campaigns', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await full('POST', `/v1/campaigns/${created.body.id}/activate`)).status).toBe(200);
    return created.body.id as string;
  }

  async function trigger(campaignId: string, recipients: unknown[]) {
    const res = await full('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('erase'), campaignId, recipients, context: { code: '4711' } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${res.body.executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Where each of the person's strings still is: raw file bytes on SQLite, every text column on PostgreSQL. */
  async function whereHeld(): Promise<string[]> {
    const found: string[] = [];
    if (dialectOf(herald.db) === 'sqlite') {
      const path = herald.config.databasePath;
      for (const file of [path, `${path}-wal`, `${path}-journal`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        for (const secret of secrets()) if (bytes.includes(Buffer.from(secret, 'utf8'))) found.push(`${file.slice(path.length - 9)}: ${secret}`);
      }
      return found;
    }
    const { rows: columns } = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'character varying', 'jsonb', 'json', 'character')`.execute(herald.db);
    expect(columns.length).toBeGreaterThan(20);
    for (const { table_name, column_name } of columns) {
      for (const secret of secrets()) {
        const { rows } = await sql<{
          n: string;
        }>`select count(*) as n from ${sql.table(table_name)} where strpos(${sql.ref(column_name)}::text, ${secret}) > 0`.execute(herald.db);
        if (Number(rows[0]!.n) > 0) found.push(`${table_name}.${column_name}: ${secret}`);
      }
    }
    return found;
  }

  it('erases everything held about the person, keeps the counts, and still refuses the suppressed address', async () => {
    const email = await liveCampaign({
      name: 'Welcome',
      type: 'marketing',
      channel: 'email',
      content: {
        subject: 'Hello {{ profile.firstName }}',
        html: '<p>Hi {{ profile.firstName }}</p><a href="https://example.com/offers">Offers</a>',
        text: 'Hi',
      },
      audience: { namespace: 'crm', createMissingProfiles: false },
      tracking: { opens: true, clicks: true },
    });
    const sms = await liveCampaign({
      name: 'OTP',
      type: 'transactional',
      channel: 'sms',
      content: { body: 'Code {{ context.code }}' },
      audience: { namespace: 'crm', createMissingProfiles: false },
    });
    const push = await liveCampaign({
      name: 'Shipped',
      type: 'transactional',
      channel: 'push',
      content: { title: 'Shipped', body: 'Hi {{ profile.firstName }}' },
      audience: { namespace: 'crm', createMissingProfiles: false },
    });

    expect(
      (
        await full('PUT', `/v1/profiles/crm/${USER_ID}`, {
          attributes: { firstName: 'Ada', email: EMAIL, phone: PHONE },
          consents: { email: 'in', sms: 'in', push: 'in' },
        })
      ).status,
    ).toBe(201);
    expect((await full('PUT', `/v1/profiles/crm/${USER_ID}/push-tokens`, { appID: 'com.example.app', platform: 'android', token: TOKEN })).status).toBe(200);
    const audience = await full('POST', '/v1/audiences', { name: 'VIPs', namespace: 'crm', definition: { type: 'static' } });
    expect(audience.status).toBe(201);
    expect(
      (
        await full('POST', `/v1/audiences/${audience.body.id}/members`, `{"userId":"${USER_ID}"}\n{"userId":"someone-else-${tag}"}\n`, {
          'content-type': 'application/x-ndjson',
        })
      ).status,
    ).toBe(200);

    const sentEmail = await trigger(email, [{ userId: USER_ID, namespace: 'crm' }]);
    expect(sentEmail.recipients[0], JSON.stringify(sentEmail)).toMatchObject({ status: 'sent' });
    const sentSms = await trigger(sms, [{ userId: USER_ID, namespace: 'crm' }]);
    expect(sentSms.recipients[0], JSON.stringify(sentSms)).toMatchObject({ status: 'sent' });
    const sentPush = await trigger(push, [{ userId: USER_ID, namespace: 'crm' }]);
    expect(sentPush.recipients[0], JSON.stringify(sentPush)).toMatchObject({ status: 'sent' });
    expect(twilio.messagesTo(PHONE)).toHaveLength(1);
    // A click on the tracked link, recorded over HTTP.
    const html = resend.deliveries.find((d) => d.to.includes(EMAIL))!.html!;
    const click = /href="[^"]*(\/t\/c\/[^"]+)"/.exec(html)![1]!;
    expect((await fetch(`${herald.baseUrl}${click}`, { redirect: 'manual' })).status).toBe(302);
    expect((await full('POST', '/v1/suppressions', { channel: 'email', address: EMAIL.toUpperCase() })).status).toBe(201);

    // Before: the person is there, in the export and in the files.
    const before = await full('GET', `/v1/profiles/crm/${USER_ID}/export`);
    expect(before.status).toBe(200);
    expect(before.body.deliveries).toHaveLength(3);
    const reportBefore = await full('GET', `/v1/campaigns/${email}/report`);
    expect(reportBefore.status).toBe(200);
    expect(reportBefore.body.totals).toMatchObject({ sent: 1 });
    const heldBefore = (await whereHeld()).join('\n');
    for (const secret of secrets()) expect(heldBefore).toContain(secret);

    // A trigger key may not erase (full scope only).
    const triggerKey = await createApiKey(full, { scope: 'trigger' });
    expect((await withKey(herald, triggerKey.key)('DELETE', `/v1/profiles/crm/${USER_ID}`)).status).toBe(403);

    const erased = await full('DELETE', `/v1/profiles/crm/${USER_ID}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body).toEqual({
      erased: {
        profiles: 1,
        pushTokens: 1,
        preferences: 0,
        audienceMemberships: 1,
        topicSubscriptions: 0,
        inboxMessages: 0,
        deliveries: 3,
        renderedMessages: 3,
        outboxMessages: 1,
        trackedLinks: 1,
        trackingEvents: 1,
        webhookEvents: 0,
        executions: 3,
        eventWaits: 0,
        events: 0,
        suppressionsHashed: 1,
        auditEntries: 1,
      },
    });

    // Nothing left: not in any column, not in the files (secure_delete, WAL truncated).
    expect(await whereHeld()).toEqual([]);
    expect((await full('GET', `/v1/profiles/crm/${USER_ID}`)).status).toBe(404);
    expect((await full('GET', `/v1/profiles/crm/${USER_ID}/export`)).status).toBe(404);
    const again = await full('DELETE', `/v1/profiles/crm/${USER_ID}`);
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toContain('application/problem+json');

    // The counts stay, without the person.
    const status = await full('GET', `/v1/executions/${sentEmail.executionId}`);
    expect(status.body).toMatchObject({ status: 'completed' });
    expect(status.body.recipients[0]).toMatchObject({ userId: 'erased:0', status: 'sent' });
    expect((await full('GET', `/v1/campaigns/${email}/report`)).body.totals).toEqual(reportBefore.body.totals);

    // The audit log: the facts, named by the internal id, never the person.
    const audit = await full('GET', '/v1/audit-log?limit=100');
    const entries = audit.body.items as { action: string; resourceType: string; resourceId: string; after?: unknown }[];
    const erasure = entries.find((e) => e.action === 'profile.erased')!;
    expect(erasure.resourceId).toMatch(/^prf_[0-9a-f]{32}$/);
    expect(erasure.after).toEqual(erased.body.erased);
    expect(entries.filter((e) => e.resourceId === erasure.resourceId).map((e) => e.action)).toEqual(['profile.erased', 'profile.updated', 'profile.created']);
    expect(entries.find((e) => e.action === 'suppression.added')!.resourceId).toMatch(/^email\/hmac-sha256:/);
    for (const secret of secrets()) expect(JSON.stringify(audit.body)).not.toContain(secret);

    // The suppression stays, hashed, and still refuses the address at send time.
    const listed = (await full('GET', '/v1/suppressions?channel=email&limit=1000')).body.items as { address?: string; addressHash?: string }[];
    const hashed = listed.filter((s) => s.addressHash !== undefined);
    expect(hashed).toHaveLength(1);
    expect(hashed[0]).not.toHaveProperty('address');
    const delivered = resend.deliveries.length;
    expect((await full('PUT', `/v1/profiles/crm/another-${tag}`, { attributes: {}, consents: { email: 'in' } })).status).toBe(201);
    const refused = await trigger(email, [{ userId: `another-${tag}`, namespace: 'crm', channelData: { emailAddress: EMAIL } }]);
    expect(refused.recipients[0]).toMatchObject({ status: 'excluded', reason: 'suppressed' });
    expect(resend.deliveries.length).toBe(delivered);
  });

  it('erases what deliveries hold for an address without a profile (the userId is the address), and 404s an unknown key', async () => {
    const address = `no-profile-${tag}@example.com`;
    const campaign = await liveCampaign({
      name: 'Receipt',
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Receipt', html: '<p>Thanks</p>' },
      audience: { namespace: 'email', createMissingProfiles: false },
    });
    expect((await trigger(campaign, [{ userId: address, namespace: 'email' }])).recipients[0]).toMatchObject({ status: 'failed', reason: 'profile-not-found' });
    const erased = await full('DELETE', `/v1/profiles/email/${encodeURIComponent(address)}`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased).toMatchObject({ profiles: 0, deliveries: 1 });
    const rows = await herald.db.selectFrom('deliveries').select(['user_id', 'address']).where('user_id', '=', address).execute();
    expect(rows).toEqual([]);
    expect((await full('DELETE', `/v1/profiles/email/${encodeURIComponent(address)}`)).status).toBe(404);
    expect((await full('DELETE', `/v1/profiles/crm/nobody-${tag}`)).status).toBe(404);
  });
});
