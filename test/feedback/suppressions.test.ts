import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, heraldAs, withKey, type Requester } from '../support/api-keys';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'suppressions-boot-key-0123456789abcdef';

/**
 * The suppression list over real HTTP against a real Herald (API, Temporal worker, the suite's
 * database): the API and its NDJSON import, the key scope, and the list applied when sending —
 * unitary (marketing and transactional, email and SMS) and audience runs.
 */
describe('suppression list', () => {
  let herald: Herald;
  let full: Requester;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald?.stop());

  /** Polls the execution status (with the full key) until it leaves `running`. */
  async function waitForExecution(executionId: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
  const ndjson = (lines: string[], contentType = 'application/x-ndjson') =>
    full('POST', '/v1/suppressions/import', lines.join('\n'), { 'content-type': contentType });

  describe('API', () => {
    it('adds an address normalised (201, then 200 with the entry as it was), lists it, and deletes it by any spelling', async () => {
      const local = unique('ann');
      const added = await full('POST', '/v1/suppressions', { channel: 'email', address: `  ${local.toUpperCase()}@Example.COM `, detail: 'asked by phone' });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      expect(added.body).toMatchObject({
        channel: 'email',
        address: `${local}@example.com`,
        reason: 'manual',
        detail: 'asked by phone',
        createdAt: expect.any(String),
      });
      const again = await full('POST', '/v1/suppressions', { channel: 'email', address: `${local}@example.com`, reason: 'complaint' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(added.body);

      const sms = await full('POST', '/v1/suppressions', { channel: 'sms', address: '+1 (415) 555-2671' });
      expect(sms.status, JSON.stringify(sms.body)).toBe(201);
      expect(sms.body.address).toBe('+14155552671');

      const listed = await full('GET', '/v1/suppressions?channel=email&limit=1000');
      expect(listed.status).toBe(200);
      expect(listed.body.items).toContainEqual(added.body);
      expect(listed.body.items.every((s: any) => s.channel === 'email')).toBe(true);

      const audit = await full('GET', '/v1/audit-log?resourceType=suppression');
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({ action: 'suppression.added', resourceId: `email/${local}@example.com`, after: { reason: 'manual' } }),
      );

      expect((await full('DELETE', `/v1/suppressions/email/${encodeURIComponent(`${local.toUpperCase()}@EXAMPLE.com`)}`)).status).toBe(204);
      expect((await full('DELETE', `/v1/suppressions/email/${encodeURIComponent(`${local}@example.com`)}`)).status).toBe(404);
      expect((await full('DELETE', `/v1/suppressions/sms/${encodeURIComponent('+1 415 555 2671')}`)).status).toBe(204);
      expect((await full('GET', '/v1/audit-log?resourceType=suppression')).body.items).toContainEqual(
        expect.objectContaining({ action: 'suppression.deleted', resourceId: `email/${local}@example.com`, before: { reason: 'manual' } }),
      );
    });

    it('pages with a cursor, in channel and address order', async () => {
      const prefix = unique('page');
      for (const i of [3, 1, 2]) expect((await full('POST', '/v1/suppressions', { channel: 'push', address: `${prefix}-token-${i}` })).status).toBe(201);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await full('GET', `/v1/suppressions?channel=push&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((s: any) => s.address));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen.filter((a) => a.startsWith(prefix))).toEqual([1, 2, 3].map((i) => `${prefix}-token-${i}`));
      expect(seen).toEqual([...seen].sort());
      expect((await full('GET', '/v1/suppressions?cursor=not-a-cursor')).status).toBe(400);
    });

    it.each([
      ['an email address without @', { channel: 'email', address: 'nobody' }],
      ['a national phone number', { channel: 'sms', address: '0612345678' }],
      ['an unknown channel', { channel: 'fax', address: 'x@example.com' }],
      ['no address', { channel: 'email' }],
    ])('refuses %s with 400 problem+json', async (_name, body) => {
      const res = await full('POST', '/v1/suppressions', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });

    it('imports NDJSON: adds new addresses normalised, counts those already listed, lists bad lines by number, and audits the counts', async () => {
      const [a, b] = [unique('imp-a'), unique('imp-b')];
      expect((await full('POST', '/v1/suppressions', { channel: 'email', address: `${b}@example.com` })).status).toBe(201);
      const res = await ndjson([
        JSON.stringify({ channel: 'email', address: `${a}@Example.com` }),
        JSON.stringify({ channel: 'email', address: `${b}@example.com` }),
        '',
        'not json',
        JSON.stringify({ channel: 'sms', address: '+44 7911 123456' }),
        JSON.stringify({ channel: 'sms', address: '12' }),
        JSON.stringify({ channel: 'carrier-pigeon', address: 'x' }),
        JSON.stringify({ channel: 'email', address: `${a}@example.com` }),
      ]);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ received: 7, added: 2, alreadySuppressed: 2, rejected: 3 });
      expect(res.body.errors.map((e: any) => e.line)).toEqual([4, 6, 7]);
      const imported = await herald.db
        .selectFrom('suppressions')
        .select(['channel', 'address', 'reason'])
        .where('address', 'in', [`${a}@example.com`, '+447911123456'])
        .orderBy('address')
        .execute();
      expect(imported).toEqual([
        { channel: 'sms', address: '+447911123456', reason: 'import' },
        { channel: 'email', address: `${a}@example.com`, reason: 'import' },
      ]);
      expect((await full('GET', '/v1/audit-log?resourceType=suppression&resourceId=import')).body.items[0]).toMatchObject({
        action: 'suppression.imported',
        after: { received: 7, added: 2, alreadySuppressed: 2, rejected: 3 },
      });
      expect((await ndjson(['{}'], 'application/json')).status).toBe(415);
    });

    it('takes a full key only: a trigger key gets 403 from every suppression operation', async () => {
      const trigger = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
      const calls: [string, string, unknown?, Record<string, string>?][] = [
        ['GET', '/v1/suppressions'],
        ['POST', '/v1/suppressions', { channel: 'email', address: 'x@example.com' }],
        ['DELETE', '/v1/suppressions/email/x%40example.com'],
        ['POST', '/v1/suppressions/import', JSON.stringify({ channel: 'email', address: 'x@example.com' }), { 'content-type': 'application/x-ndjson' }],
      ];
      for (const [method, path, body, headers] of calls) expect((await trigger(method, path, body, headers)).status, `${method} ${path}`).toBe(403);
      expect(await herald.db.selectFrom('suppressions').select('address').where('address', '=', 'x@example.com').execute()).toEqual([]);
    });
  });

  describe('applied when sending', () => {
    async function trigger(campaignId: string, recipients: { userId: string; namespace: string }[]) {
      const res = await full('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('sup'), campaignId, recipients, context: { code: '7' } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return waitForExecution(res.body.executionId);
    }
    const outboxTo = async (campaignId: string) =>
      ((await full('GET', `/v1/outbox?campaignId=${campaignId}&limit=500`)).body.items as { to: string }[]).map((m) => m.to);

    it('excludes a suppressed address with reason `suppressed` on transactional and marketing campaigns, and sends to the rest', async () => {
      const blocked = `${unique('blocked')}@example.com`;
      const open = `${unique('open')}@example.com`;
      expect((await full('POST', '/v1/suppressions', { channel: 'email', address: blocked.toUpperCase() })).status).toBe(201);
      const transactional = await liveCampaign(heraldAs(herald, BOOT));
      const execution = await trigger(transactional.id, [
        { userId: blocked, namespace: 'email' },
        { userId: open, namespace: 'email' },
      ]);
      expect(execution.recipients).toEqual([
        expect.objectContaining({ userId: blocked, status: 'excluded', reason: 'suppressed' }),
        expect.objectContaining({ userId: open, status: 'sent' }),
      ]);
      expect(await outboxTo(transactional.id)).toEqual([open]);

      for (const userId of [blocked, open])
        expect([200, 201]).toContain(
          (await full('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, { attributes: {}, consents: { email: 'in' } })).status,
        );
      const marketing = await liveCampaign(heraldAs(herald, BOOT), {
        name: 'News',
        type: 'marketing',
        audience: { namespace: 'email', createMissingProfiles: false },
      });
      const sent = await trigger(marketing.id, [
        { userId: blocked, namespace: 'email' },
        { userId: open, namespace: 'email' },
      ]);
      expect(sent.recipients.map((r: any) => [r.status, r.reason])).toEqual([
        ['excluded', 'suppressed'],
        ['sent', undefined],
      ]);

      // Off the list, the address is sent to again.
      expect((await full('DELETE', `/v1/suppressions/email/${encodeURIComponent(blocked)}`)).status).toBe(204);
      expect((await trigger(transactional.id, [{ userId: blocked, namespace: 'email' }])).recipients[0]).toMatchObject({ status: 'sent' });
    });

    it('matches SMS numbers in E.164 whatever their spelling', async () => {
      const sms = await full('POST', '/v1/campaigns', {
        name: 'OTP',
        type: 'transactional',
        channel: 'sms',
        content: { body: 'Code {{ context.code }}' },
        audience: { namespace: 'phone', createMissingProfiles: true },
      });
      expect(sms.status, JSON.stringify(sms.body)).toBe(201);
      expect((await full('POST', `/v1/campaigns/${sms.body.id}/activate`)).status).toBe(200);
      expect((await full('POST', '/v1/suppressions', { channel: 'sms', address: '+1 415-555-2999' })).status).toBe(201);
      const execution = await trigger(sms.body.id, [
        { userId: '+14155552999', namespace: 'phone' },
        { userId: '+14155552998', namespace: 'phone' },
      ]);
      expect(execution.recipients.map((r: any) => [r.status, r.reason])).toEqual([
        ['excluded', 'suppressed'],
        ['sent', undefined],
      ]);
    });

    it('excludes suppressed members of an audience run, checked per batch', async () => {
      const segment = unique('aud');
      const ids = Array.from({ length: 12 }, (_, i) => `${segment}-${i}@example.com`);
      for (const userId of ids)
        expect([200, 201]).toContain(
          (await full('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, { attributes: { segment }, consents: { email: 'in' } })).status,
        );
      const blocked = ids.filter((_, i) => i % 4 === 0);
      const imported = await ndjson(blocked.map((address) => JSON.stringify({ channel: 'email', address: address.toUpperCase() })));
      expect(imported.body).toMatchObject({ added: blocked.length });
      const audience = await full('POST', '/v1/audiences', {
        name: segment,
        namespace: 'email',
        definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] },
      });
      expect(audience.status, JSON.stringify(audience.body)).toBe(201);
      const campaign = await liveCampaign(heraldAs(herald, BOOT), {
        name: 'Sale',
        type: 'marketing',
        audience: { namespace: 'email', createMissingProfiles: false },
      });
      const run = await full('POST', '/v1/executions/audience', {
        requestId: uniqueRequestId('sup-aud'),
        campaignId: campaign.id,
        audience: { id: audience.body.id },
        context: { code: '1' },
      });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
      const execution = await waitForExecution(run.body.executionId, 60_000);
      expect(execution).toMatchObject({ status: 'completed', counts: { sent: 9, excluded: 3, failed: 0 }, audience: { excludedByReason: { suppressed: 3 } } });
      expect((await outboxTo(campaign.id)).sort()).toEqual(ids.filter((id) => !blocked.includes(id)).sort());
    });
  });
});
