import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentKeyId } from '../../src/domain/api-key';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { emailCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'audit-bootstrap-key';
const BOOT_ID = environmentKeyId(BOOT);

describe('audit log', () => {
  let herald: Herald;
  let full: Requester;
  const audit = async (query: string) => {
    const res = await full('GET', `/v1/audit-log?${query}`);
    expect(res.status).toBe(200);
    return res.body as { items: any[]; nextCursor?: string };
  };

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald.stop());

  it("records a campaign's create, edit, activation and stop, with the key and the campaign before and after", async () => {
    const created = (await full('POST', '/v1/campaigns', emailCampaign())).body;
    expect((await full('PATCH', `/v1/campaigns/${created.id}`, { name: 'Renamed' })).status).toBe(200);
    expect((await full('POST', `/v1/campaigns/${created.id}/activate`)).status).toBe(200);
    expect((await full('POST', `/v1/campaigns/${created.id}/stop`)).status).toBe(200);
    // A stop of a stopped campaign changes nothing, so it records nothing.
    expect((await full('POST', `/v1/campaigns/${created.id}/stop`)).status).toBe(200);

    const { items } = await audit(`resourceType=campaign&resourceId=${created.id}`);
    expect(items.map((e) => e.action)).toEqual(['campaign.stopped', 'campaign.activated', 'campaign.updated', 'campaign.created']);
    for (const entry of items)
      expect(entry).toMatchObject({ actorKeyId: BOOT_ID, resourceType: 'campaign', resourceId: created.id, occurredAt: expect.any(String) });
    const [stopped, activated, updated, creation] = items;
    expect(creation.before).toBeUndefined();
    expect(creation.after).toMatchObject({ id: created.id, status: 'draft', version: 1, name: 'Password reset' });
    expect(updated.before).toMatchObject({ name: 'Password reset', version: 1 });
    expect(updated.after).toMatchObject({ name: 'Renamed', version: 2, status: 'draft' });
    expect(activated.before).toMatchObject({ status: 'draft' });
    expect(activated.after).toMatchObject({ status: 'live', activatedAt: expect.any(String) });
    expect(stopped.before).toMatchObject({ status: 'live' });
    expect(stopped.after).toMatchObject({ status: 'stopped' });
  });

  it('records key creation and revocation, naming the acting key, without any secret', async () => {
    const manager = await createApiKey(full, { name: 'manager', scope: 'full' });
    const byManager = await createApiKey(withKey(herald, manager.key), { name: 'sender', scope: 'trigger' });
    expect((await full('DELETE', `/v1/api-keys/${byManager.id}`)).status).toBe(204);

    const { items } = await audit(`resourceType=api_key&resourceId=${byManager.id}`);
    expect(items).toEqual([
      expect.objectContaining({ action: 'api_key.revoked', actorKeyId: BOOT_ID, before: { id: byManager.id, name: 'sender', scope: 'trigger' } }),
      expect.objectContaining({ action: 'api_key.created', actorKeyId: manager.id, after: { id: byManager.id, name: 'sender', scope: 'trigger' } }),
    ]);
    expect((await audit(`actorKeyId=${manager.id}`)).items.map((e) => e.action)).toEqual(['api_key.created']);

    const rows = JSON.stringify(await herald.db.selectFrom('audit_log').selectAll().execute());
    for (const key of [manager, byManager]) {
      expect(rows).not.toContain(key.key.slice(5));
      expect(rows).not.toContain(createHash('sha256').update(key.key).digest('hex'));
    }
    expect(rows).not.toContain(BOOT);
  });

  it('records profile upserts by name, without copying personal data', async () => {
    expect((await full('PUT', '/v1/profiles/email/grace@example.com', { attributes: { firstName: 'Grace', secretAnswer: 'cobol' } })).status).toBe(201);
    expect((await full('PUT', '/v1/profiles/email/grace@example.com', { attributes: { firstName: 'Grace' }, consents: { email: 'in' } })).status).toBe(200);
    const { items } = await audit('resourceType=profile&resourceId=email/grace@example.com');
    expect(items.map((e) => e.action)).toEqual(['profile.updated', 'profile.created']);
    for (const entry of items) {
      expect(entry.actorKeyId).toBe(BOOT_ID);
      expect(entry.before).toBeUndefined();
      expect(entry.after).toBeUndefined();
    }
    expect(JSON.stringify(await herald.db.selectFrom('audit_log').selectAll().execute())).not.toContain('cobol');
  });

  it('pages newest first with an opaque cursor, up to 500 entries a page', async () => {
    for (let i = 0; i < 5; i++) await full('POST', '/v1/campaigns', emailCampaign({ name: `paged ${i}` }));
    const all = (await audit('limit=500')).items;
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit(`limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      if (cursor) expect(cursor).not.toBe(page.items[page.items.length - 1].id);
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect([...seen].sort().reverse()).toEqual(seen);

    expect((await full('GET', '/v1/audit-log?limit=501')).status).toBe(400);
    const badCursor = await full('GET', '/v1/audit-log?cursor=not-a-cursor');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.errors[0].field).toBe('cursor');
    expect((await full('GET', '/v1/audit-log?resourceType=execution')).status).toBe(400);
  });

  it('is written in the same transaction as the change: no audit entry, no change', async () => {
    const before = (await full('GET', '/v1/campaigns?limit=100')).body.items.length;
    await sql`alter table audit_log rename to audit_log_away`.execute(herald.db);
    try {
      const res = await full('POST', '/v1/campaigns', emailCampaign({ name: 'never audited' }));
      expect(res.status).toBe(500);
    } finally {
      await sql`alter table audit_log_away rename to audit_log`.execute(herald.db);
    }
    const after = (await full('GET', '/v1/campaigns?limit=100')).body.items;
    expect(after.length).toBe(before);
    expect(after.map((c: { name: string }) => c.name)).not.toContain('never audited');
  });

  it('is for full-access keys only', async () => {
    const triggerKey = await createApiKey(full, { scope: 'trigger' });
    expect((await withKey(herald, triggerKey.key)('GET', '/v1/audit-log')).status).toBe(403);
  });
});
