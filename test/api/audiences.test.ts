import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudienceRepository } from '../../src/repositories/audiences';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { emailCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'audiences-bootstrap-key';
const NS = 'crm';

/** The seeded profiles of namespace crm: every operator below is checked against them. */
const PROFILES: Record<string, { attributes: Record<string, unknown>; consents?: Record<string, string>; locale?: string }> = {
  p1: {
    attributes: { country: 'FR', age: 30, plan: { tier: 'pro' }, tags: ['vip', 'beta'], bio: 'loves cats', active: true, 'first-name': 'Ada' },
    consents: { email: 'in' },
    locale: 'fr-FR',
  },
  p2: {
    attributes: { country: 'BE', age: '30', plan: { tier: 'free' }, tags: ['beta'], active: false },
    consents: { email: 'out', sms: 'in' },
    locale: 'fr-BE',
  },
  p3: { attributes: { country: 'DE', age: 45.5, active: 1, plan: 'gold' }, locale: 'de' },
  p4: { attributes: { country: null, age: 17, nick: 'Zoë', bio: ['loves cats'] }, consents: { push: 'in' } },
  p5: { attributes: {}, locale: 'pt-BR' },
  p6: { attributes: { country: 'fr', age: '300', tags: 'beta' } },
};
const ALL = Object.keys(PROFILES);
const except = (...ids: string[]) => ALL.filter((id) => !ids.includes(id));

describe('audiences', () => {
  let herald: Herald;
  let full: Requester;

  beforeAll(async () => {
    // Small NDJSON limits (the smallest allowed line), so that the cut-off is cheap to reach.
    herald = await startHerald({
      withoutWorker: true,
      env: { HERALD_API_KEYS: BOOT, HERALD_IMPORT_MAX_BYTES: String(64 * 1024), HERALD_IMPORT_MAX_LINE_BYTES: '256' },
    });
    full = withKey(herald, BOOT);
    for (const [userId, profile] of Object.entries(PROFILES)) {
      expect((await full('PUT', `/v1/profiles/${NS}/${userId}`, profile)).status).toBe(201);
    }
    // Same attributes, another namespace: never a member of a crm audience.
    expect((await full('PUT', '/v1/profiles/other/p1', PROFILES.p1)).status).toBe(201);
  });
  afterAll(() => herald?.stop());

  async function createRule(where: unknown[], namespace = NS) {
    const res = await full('POST', '/v1/audiences', { name: 'rule', namespace, definition: { type: 'rule', where } });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string };
  }

  /** The members the database selects for a rule (through memberUserIds), checked against estimatedSize over HTTP. */
  async function members(...where: unknown[]): Promise<string[]> {
    const { id } = await createRule(where);
    const repository = new AudienceRepository(herald.db);
    const audience = (await repository.get(id))!;
    const rows = await repository.memberUserIds(herald.db, audience).execute();
    const ids = rows.map((row) => row.user_id).sort();
    const fetched = await full('GET', `/v1/audiences/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.estimatedSize).toBe(ids.length);
    return ids;
  }

  const attr = (attribute: string, op: string, value?: unknown) => ({ attribute, op, ...(value !== undefined && { value }) });

  it('eq and neq compare typed values: 30 is not "30", true is not 1; dots walk into nested objects', async () => {
    expect(await members(attr('country', 'eq', 'FR'))).toEqual(['p1']);
    expect(await members(attr('age', 'eq', 30))).toEqual(['p1']);
    expect(await members(attr('age', 'eq', '30'))).toEqual(['p2']);
    expect(await members(attr('age', 'eq', 45.5))).toEqual(['p3']);
    expect(await members(attr('active', 'eq', true))).toEqual(['p1']);
    expect(await members(attr('active', 'eq', false))).toEqual(['p2']);
    expect(await members(attr('active', 'eq', 1))).toEqual(['p3']);
    expect(await members(attr('plan.tier', 'eq', 'pro'))).toEqual(['p1']);
    expect(await members(attr('first-name', 'eq', 'Ada'))).toEqual(['p1']);
    // An array holding the value is not equal to it.
    expect(await members(attr('tags', 'eq', 'beta'))).toEqual(['p6']);
    // neq is `not eq`: profiles without the attribute (or with null) match too.
    expect(await members(attr('country', 'neq', 'FR'))).toEqual(except('p1'));
    expect(await members(attr('plan.tier', 'neq', 'pro'))).toEqual(except('p1'));
  });

  it('in and notIn take typed lists; notIn also matches a missing attribute', async () => {
    expect(await members(attr('country', 'in', ['FR', 'BE']))).toEqual(['p1', 'p2']);
    expect(await members(attr('age', 'in', [30, 17]))).toEqual(['p1', 'p4']);
    expect(await members(attr('age', 'in', ['30', 17]))).toEqual(['p2', 'p4']);
    expect(await members(attr('active', 'in', [true, 'x']))).toEqual(['p1']);
    expect(await members(attr('country', 'notIn', ['FR', 'BE']))).toEqual(['p3', 'p4', 'p5', 'p6']);
  });

  it('exists means present and not null', async () => {
    expect(await members(attr('country', 'exists'))).toEqual(['p1', 'p2', 'p3', 'p6']);
    expect(await members(attr('country', 'notExists'))).toEqual(['p4', 'p5']);
    expect(await members(attr('plan.tier', 'exists'))).toEqual(['p1', 'p2']);
  });

  it('gt/gte/lt/lte compare numbers with numbers and strings with strings, by code point', async () => {
    expect(await members(attr('age', 'gt', 29))).toEqual(['p1', 'p3']);
    expect(await members(attr('age', 'gte', 30))).toEqual(['p1', 'p3']);
    expect(await members(attr('age', 'lt', 30))).toEqual(['p4']);
    expect(await members(attr('age', 'lte', 17))).toEqual(['p4']);
    expect(await members(attr('age', 'gt', 100))).toEqual([]);
    // Strings: "300" < "31", as text.
    expect(await members(attr('age', 'gt', '29'))).toEqual(['p2', 'p6']);
    expect(await members(attr('age', 'lt', '31'))).toEqual(['p2', 'p6']);
    // Code point order, whatever the database's collation: lower case sorts after upper case.
    expect(await members(attr('country', 'gt', 'Z'))).toEqual(['p6']);
    expect(await members(attr('nick', 'gt', 'Zo'))).toEqual(['p4']);
  });

  it('contains: a substring of a string, or an element of an array', async () => {
    expect(await members(attr('bio', 'contains', 'cat'))).toEqual(['p1']);
    expect(await members(attr('bio', 'contains', 'Cat'))).toEqual([]);
    expect(await members(attr('bio', 'contains', 'loves cats'))).toEqual(['p1', 'p4']);
    expect(await members(attr('tags', 'contains', 'beta'))).toEqual(['p1', 'p2', 'p6']);
    expect(await members(attr('tags', 'contains', 'vi'))).toEqual([]);
  });

  it('consents: eq, neq (also unset), exists, notExists', async () => {
    expect(await members({ consent: 'email', op: 'eq', value: 'in' })).toEqual(['p1']);
    expect(await members({ consent: 'email', op: 'eq', value: 'out' })).toEqual(['p2']);
    expect(await members({ consent: 'email', op: 'neq', value: 'in' })).toEqual(except('p1'));
    expect(await members({ consent: 'email', op: 'exists' })).toEqual(['p1', 'p2']);
    expect(await members({ consent: 'sms', op: 'notExists' })).toEqual(except('p2'));
  });

  it('locale: a tag matches itself and more specific tags, * any known locale', async () => {
    expect(await members({ locale: ['fr'] })).toEqual(['p1', 'p2']);
    expect(await members({ locale: ['FR-fr'] })).toEqual(['p1']);
    expect(await members({ locale: ['pt-br', 'de'] })).toEqual(['p3', 'p5']);
    expect(await members({ locale: ['*'] })).toEqual(['p1', 'p2', 'p3', 'p5']);
    expect(await members({ not: { locale: ['*'] } })).toEqual(['p4', 'p6']);
  });

  it('and, or, not nest; where is a conjunction; an empty where is the whole namespace', async () => {
    expect(await members()).toEqual(ALL);
    expect(await members(attr('country', 'in', ['FR', 'BE', 'DE']), { consent: 'email', op: 'exists' })).toEqual(['p1', 'p2']);
    expect(
      await members({
        or: [
          attr('country', 'eq', 'FR'),
          { and: [{ consent: 'push', op: 'eq', value: 'in' }, { not: attr('country', 'exists') }] },
          { not: { or: [attr('age', 'exists'), { locale: ['*'] }] } },
        ],
      }),
    ).toEqual(['p1', 'p4']);
    // not over a missing attribute is still the exact opposite.
    expect(await members({ not: attr('age', 'gt', 20) })).toEqual(['p2', 'p4', 'p5', 'p6']);
    expect(await members({ not: { not: attr('age', 'gt', 20) } })).toEqual(['p1', 'p3']);
  });

  it('works as a subquery of an INSERT … SELECT numbered with row_number(), as an audience run freezes it', async () => {
    const repository = new AudienceRepository(herald.db);
    const audience = (await repository.get((await createRule([attr('country', 'exists')])).id))!;
    const frozen = await herald.db.transaction().execute(async (trx) => {
      await sql`create temporary table frozen_members (user_id text not null, position integer not null)`.execute(trx);
      await sql`insert into frozen_members (user_id, position) select m.user_id, row_number() over (order by m.user_id) - 1 from (${repository.memberUserIds(trx, audience)}) as m`.execute(
        trx,
      );
      const rows = await sql<{ user_id: string; position: number }>`select user_id, position from frozen_members order by position`.execute(trx);
      await sql`drop table frozen_members`.execute(trx);
      return rows.rows.map((row) => [row.user_id, Number(row.position)]);
    });
    expect(frozen).toEqual([
      ['p1', 0],
      ['p2', 1],
      ['p3', 2],
      ['p6', 3],
    ]);
  });

  it('creates, lists, reads and deletes audiences, with audit entries', async () => {
    const created = await full('POST', '/v1/audiences', { name: 'French', namespace: NS, definition: { type: 'rule', where: [{ locale: ['fr'] }] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'French', namespace: NS, definition: { type: 'rule', where: [{ locale: ['fr'] }] } });
    expect(created.body.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const { id } = created.body;
    const fetched = await full('GET', `/v1/audiences/${id}`);
    expect(fetched.body).toEqual({ ...created.body, estimatedSize: 2 });

    const firstPage = await full('GET', `/v1/audiences?namespace=${NS}&limit=1`);
    expect(firstPage.body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect(firstPage.body.nextCursor).toBe(id);
    const nextPage = await full('GET', `/v1/audiences?namespace=${NS}&limit=100&cursor=${id}`);
    expect(nextPage.body.items.length).toBeGreaterThan(0);
    expect(nextPage.body.items.every((a: { id: string }) => a.id < id)).toBe(true);
    expect((await full('GET', '/v1/audiences?namespace=nobody')).body).toEqual({ items: [] });

    expect((await full('DELETE', `/v1/audiences/${id}`)).status).toBe(204);
    expect((await full('GET', `/v1/audiences/${id}`)).status).toBe(404);
    expect((await full('DELETE', `/v1/audiences/${id}`)).status).toBe(404);
    const audit = await full('GET', `/v1/audit-log?resourceType=audience&resourceId=${id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['audience.deleted', 'audience.created']);
  });

  async function ndjson(method: string, path: string, body: string, contentType = 'application/x-ndjson') {
    const response = await fetch(`${herald.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${BOOT}`, 'content-type': contentType }, body });
    return { status: response.status, headers: response.headers, body: (await response.json().catch(() => undefined)) as any };
  }

  it('static audiences: members added and removed as NDJSON, bad lines reported and skipped', async () => {
    const created = await full('POST', '/v1/audiences', { name: 'VIPs', namespace: NS, definition: { type: 'static' } });
    expect(created.status).toBe(201);
    const { id } = created.body;
    const lines =
      ['{"userId":"p1"}', '{"userId":"no-profile-yet"}', '{not json', '{"userId":""}', '{"user":"p2"}', '{"userId":"p1"}', '', '{"userId":"p3"}'].join('\n') +
      '\n';
    const added = await ndjson('POST', `/v1/audiences/${id}/members`, lines);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ received: 7, added: 3, alreadyMembers: 1, rejected: 3 });
    expect(added.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5]);
    expect((await full('GET', `/v1/audiences/${id}`)).body.estimatedSize).toBe(3);
    const rows = await herald.db.selectFrom('audience_members').select(['user_id', 'namespace']).where('audience_id', '=', id).orderBy('user_id').execute();
    expect(rows).toEqual([
      { user_id: 'no-profile-yet', namespace: NS },
      { user_id: 'p1', namespace: NS },
      { user_id: 'p3', namespace: NS },
    ]);

    const again = await ndjson('POST', `/v1/audiences/${id}/members`, '{"userId":"p1"}\r\n{"userId":"p3"}');
    expect(again.body).toMatchObject({ received: 2, added: 0, alreadyMembers: 2, rejected: 0, errors: [] });

    expect((await full('DELETE', `/v1/audiences/${id}/members/p3`)).status).toBe(204);
    expect((await full('DELETE', `/v1/audiences/${id}/members/p3`)).status).toBe(404);
    const removed = await ndjson('DELETE', `/v1/audiences/${id}/members`, '{"userId":"p1"}\n{"userId":"p9"}\n42\n');
    expect(removed.body).toMatchObject({ received: 3, removed: 1, notMembers: 1, rejected: 1 });
    expect((await full('GET', `/v1/audiences/${id}`)).body.estimatedSize).toBe(1);

    // More than one batch of 500.
    const many = Array.from({ length: 1234 }, (_, i) => JSON.stringify({ userId: `bulk-${i}` })).join('\n');
    expect((await ndjson('POST', `/v1/audiences/${id}/members`, many)).body).toMatchObject({ received: 1234, added: 1234, rejected: 0 });
    expect((await full('GET', `/v1/audiences/${id}`)).body.estimatedSize).toBe(1235);

    expect((await ndjson('POST', `/v1/audiences/${id}/members`, '{"userId":"p1"}', 'application/json')).status).toBe(415);
    const rule = await createRule([]);
    const onRule = await ndjson('POST', `/v1/audiences/${rule.id}/members`, '{"userId":"p1"}');
    expect(onRule.status).toBe(409);
    expect(onRule.body.type).toBe('audience-not-static');
    expect((await full('DELETE', `/v1/audiences/${rule.id}/members/p1`)).status).toBe(409);
    expect((await ndjson('POST', '/v1/audiences/nope/members', '{"userId":"p1"}')).status).toBe(404);

    // Deleting the audience deletes its members.
    expect((await full('DELETE', `/v1/audiences/${id}`)).status).toBe(204);
    expect(await herald.db.selectFrom('audience_members').select('user_id').where('audience_id', '=', id).execute()).toEqual([]);
  });

  it('a members body over HERALD_IMPORT_MAX_BYTES: 413 with what was applied before the limit; long lines are refused', async () => {
    const { id } = (await full('POST', '/v1/audiences', { name: 'big', namespace: NS, definition: { type: 'static' } })).body;
    const long = JSON.stringify({ userId: 'x'.repeat(250) });
    const short = await ndjson('POST', `/v1/audiences/${id}/members`, `{"userId":"a"}\n${long}\n{"userId":"b"}\n`);
    expect(short.body).toMatchObject({ received: 3, added: 2, rejected: 1, errors: [{ line: 2, reason: 'line is longer than 256 bytes' }] });
    // 5,000 lines of 19-20 bytes: about 100 KB, over the 64 KiB limit.
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ userId: `m-${String(i).padStart(4, '0')}` })).join('\n');
    const cut = await ndjson('POST', `/v1/audiences/${id}/members`, lines);
    expect(cut.status).toBe(413);
    expect(cut.headers.get('content-type')).toContain('application/problem+json');
    const { added } = cut.body.summary;
    expect(added).toBeGreaterThan(1000);
    expect(added).toBeLessThan(5000);
    expect((await full('GET', `/v1/audiences/${id}`)).body.estimatedSize).toBe(2 + added);
  });

  it('an audience that a run not started yet will read cannot be deleted (409)', async () => {
    const campaign = await full('POST', '/v1/campaigns', emailCampaign({ audience: { namespace: NS } }));
    expect(campaign.status).toBe(201);
    const { id } = await createRule([]);
    const now = new Date().toISOString();
    const run = {
      id: `exec-${id}`,
      request_id: `req-${id}`,
      request_hash: 'h',
      campaign_id: campaign.body.id,
      campaign_version: 1,
      workflow_id: `wf-${id}`,
      status: 'running' as const,
      failure_reason: null,
      created_at: now,
      completed_at: null,
      workflow_checked_at: null,
      context: null,
      started_by_key_id: null,
      details_purged_at: null,
      kind: 'audience' as const,
      audience_id: id,
      schedule_id: `sched-${id}`,
      execute_at: now,
    };
    await herald.db.insertInto('executions').values(run).execute();
    const refused = await full('DELETE', `/v1/audiences/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'audience-in-use' });
    expect(refused.body.detail).toContain(run.id);
    // Once the run has frozen its members, the audience may go.
    await herald.db.updateTable('executions').set({ run_started_at: now }).where('id', '=', run.id).execute();
    expect((await full('DELETE', `/v1/audiences/${id}`)).status).toBe(204);
  });

  it('refuses rules over the limits and malformed conditions with 400 problem+json, never 500', async () => {
    const create = (where: unknown[]) => full('POST', '/v1/audiences', { name: 'bad', namespace: NS, definition: { type: 'rule', where } });
    const expectInvalid = async (where: unknown[], field: string) => {
      const res = await create(where);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    await expectInvalid(
      Array.from({ length: 51 }, () => attr('a', 'exists')),
      'definition.where',
    );
    await expectInvalid([{ and: Array.from({ length: 50 }, () => attr('a', 'exists')) }], 'definition.where');
    let nested: unknown = attr('a', 'exists');
    for (let i = 0; i < 6; i++) nested = { not: nested };
    await expectInvalid([nested], 'definition.where.0.not.not.not.not.not');
    // Thousands of levels (a ~100 KB body) are refused before anything walks them.
    const levels = 10_000;
    const deep = `{"name":"bad","namespace":"${NS}","definition":{"type":"rule","where":[${'{"not":'.repeat(levels)}{"attribute":"a","op":"exists"}${'}'.repeat(levels)}]}}`;
    expect((await full('POST', '/v1/audiences', deep)).status).toBe(400);
    await expectInvalid(
      [
        attr(
          'a',
          'in',
          Array.from({ length: 1001 }, (_, i) => i),
        ),
      ],
      'definition.where.0.value',
    );
    await expectInvalid([attr('a"; drop table profiles; --', 'eq', 1)], 'definition.where.0.attribute');
    await expectInvalid([attr('0', 'eq', 1)], 'definition.where.0.attribute');
    await expectInvalid([attr('a..b', 'eq', 1)], 'definition.where.0.attribute');
    await expectInvalid([attr('a', 'in', 'x')], 'definition.where.0.value');
    await expectInvalid([attr('a', 'gt', true)], 'definition.where.0.value');
    await expectInvalid([attr('a', 'exists', 1)], 'definition.where.0.value');
    await expectInvalid([attr('a', 'like', 'x')], 'definition.where.0.op');
    await expectInvalid([{ consent: 'email', op: 'eq' }], 'definition.where.0.value');
    await expectInvalid([{ locale: ['not a tag'] }], 'definition.where.0.locale.0');
    await expectInvalid([{ or: [] }], 'definition.where.0.or');
    expect((await full('POST', '/v1/audiences', { name: 'bad', namespace: NS, definition: { type: 'static', where: [] } })).status).toBe(400);
    expect((await full('POST', '/v1/audiences', { name: 'bad', namespace: NS, definition: { type: 'dynamic' } })).status).toBe(400);
    // Quotes and SQL in values are only ever parameters.
    expect(await members(attr('country', 'eq', `FR' or '1'='1`))).toEqual([]);
    expect(await members(attr('country', 'in', [`"FR"`, `FR"]`]))).toEqual([]);
  });

  it('documents the rule language in the OpenAPI document, recursive conditions included', async () => {
    const doc = (await herald.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/audiences/{id}/members'])).toEqual(expect.arrayContaining(['post', 'delete']));
    const schemas = doc.components.schemas;
    expect(schemas.AudienceCondition.anyOf).toEqual(expect.arrayContaining([{ $ref: '#/components/schemas/AudienceAttributeCondition' }]));
    expect(schemas.AudienceAttributeCondition.properties.op.enum).toContain('contains');
    expect(schemas.AudienceAttributeCondition.description).toContain('30` never equals `"30"');
  });

  it('needs a full key: a trigger key gets 403; unknown ids 404', async () => {
    const trigger = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    const { id } = await createRule([]);
    expect((await trigger('POST', '/v1/audiences', { name: 'x', namespace: NS, definition: { type: 'static' } })).status).toBe(403);
    expect((await trigger('GET', '/v1/audiences')).status).toBe(403);
    expect((await trigger('GET', `/v1/audiences/${id}`)).status).toBe(403);
    expect((await trigger('DELETE', `/v1/audiences/${id}`)).status).toBe(403);
    expect((await trigger('DELETE', `/v1/audiences/${id}/members/p1`)).status).toBe(403);
    expect((await full('GET', '/v1/audiences/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
    expect((await full('DELETE', '/v1/audiences/01ARZ3NDEKTSV4RRFFQ69G5FAV/members/p1')).status).toBe(404);
  });
});
