/**
 * A condition step decides a profile condition in memory (src/domain/step-condition.ts); an
 * audience rule decides the same condition in SQL (src/repositories/audience-rule-sql.ts). They
 * must agree: for every rule here, the profiles the SQL compiler selects are exactly those the
 * evaluator says hold, read back as the worker reads them (ProfileRepository). On an in-memory
 * SQLite migrated like Herald's, so the unit tier runs it; PostgreSQL's JSON tests are held to the
 * same meaning by the audience tests of the stack tier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import type { AudienceCondition } from '../../src/domain/audience-rule';
import { evaluateStepConditions } from '../../src/domain/step-condition';
import { compileAudienceRule } from '../../src/repositories/audience-rule-sql';
import { ProfileRepository, type Profile, type ProfileUpsert } from '../../src/repositories/profiles';

const NAMESPACE = 'parity';

/** Varied on purpose: types that look alike, nested and half-nested paths, odd keys and code points, no locale or consent at all. */
const PROFILES: Omit<ProfileUpsert, 'namespace'>[] = [
  { userId: 'p01', attributes: {}, consents: {} },
  { userId: 'p02', attributes: { age: 30, plan: { tier: 'pro', seats: 12 } }, consents: { email: 'in' }, locale: 'fr' },
  { userId: 'p03', attributes: { age: '30', plan: { tier: 'free' } }, consents: { email: 'out' }, locale: 'fr-CA' },
  { userId: 'p04', attributes: { age: 30.5, vip: true, plan: 'pro' }, consents: { sms: 'in' }, locale: 'fr-FR' },
  { userId: 'p05', attributes: { age: 41, vip: false, plan: { tier: { name: 'pro' } } }, consents: { email: 'in', sms: 'out' }, locale: 'frr' },
  { userId: 'p06', attributes: { age: -3, vip: 1, score: 10 }, consents: { push: 'in' }, locale: 'pt-BR' },
  { userId: 'p07', attributes: { age: 0, vip: 'true', score: 10.5 }, consents: { email: 'in', push: 'out' }, locale: 'pt' },
  { userId: 'p08', attributes: { age: null, score: 9.999, nickname: null }, consents: {}, locale: 'en' },
  { userId: 'p09', attributes: { name: 'Zoe', nickname: 'Z' }, consents: { email: 'in', sms: 'in', push: 'in' }, locale: 'en-GB' },
  { userId: 'p10', attributes: { name: 'alice', nickname: '' }, consents: { email: 'out', sms: 'out' }, locale: 'zh-Hant-TW' },
  { userId: 'p11', attributes: { name: 'Émile', bio: 'likes trains and planes' }, consents: {}, locale: 'de' },
  { userId: 'p12', attributes: { name: '\uE000private', bio: '' }, consents: { email: 'in' }, locale: 'de-DE' },
  { userId: 'p13', attributes: { name: '\u{1F600} smile', bio: 'banana' }, consents: { sms: 'in' } },
  { userId: 'p14', attributes: { name: '\uFFFF', bio: 42 }, consents: { email: 'out' }, locale: 'fr' },
  { userId: 'p15', attributes: { tags: ['beta', 7, true] }, consents: {} },
  { userId: 'p16', attributes: { tags: ['Beta', '7', 'true', false] }, consents: { email: 'in' } },
  { userId: 'p17', attributes: { tags: [], bio: ['likes', 'an'] }, consents: {} },
  { userId: 'p18', attributes: { tags: 'beta, gamma', bio: 'an' }, consents: {} },
  { userId: 'p19', attributes: { tags: [['beta'], { beta: true }, ''] }, consents: {} },
  { userId: 'p20', attributes: { plan: { tier: 'pro', limits: { daily: 50, monthly: 1000 } } }, consents: {}, locale: 'en-US' },
  { userId: 'p21', attributes: { plan: { tier: 'pro', limits: { daily: 150 } } }, consents: {}, locale: 'fr-CA' },
  { userId: 'p22', attributes: { plan: { limits: [{ daily: 1 }] } }, consents: {} },
  { userId: 'p23', attributes: { constructor: 'own', toString: 7 }, consents: {} },
  { userId: 'p24', attributes: { 'first-name': 'Ana', first: { name: 'Bo' } }, consents: {} },
  { userId: 'p25', attributes: { _private: true, score: -0.5 }, consents: { email: 'in' }, locale: 'pt-PT' },
  { userId: 'p26', attributes: { score: 1e21, age: 31 }, consents: { sms: 'out' }, locale: 'es-419' },
  { userId: 'p27', attributes: { score: '10', age: 40 }, consents: {}, locale: 'fr' },
  { userId: 'p28', attributes: { vip: true, age: 30 }, consents: { email: 'in', sms: 'in' }, locale: 'pt-BR' },
  { userId: 'p29', attributes: { vip: null, name: '' }, consents: { push: 'out' } },
  { userId: 'p30', attributes: { plan: { tier: 'PRO', seats: '12' }, age: 30, vip: false }, consents: { email: 'in' }, locale: 'en' },
  { userId: 'p31', attributes: { plan: null, nickname: 'Zed' }, consents: {}, locale: 'zh' },
];

const RULES: { name: string; where: AudienceCondition[] }[] = [
  { name: 'no condition', where: [] },
  { name: 'eq string, nested', where: [{ attribute: 'plan.tier', op: 'eq', value: 'pro' }] },
  { name: 'neq string, nested', where: [{ attribute: 'plan.tier', op: 'neq', value: 'pro' }] },
  { name: 'eq number', where: [{ attribute: 'age', op: 'eq', value: 30 }] },
  { name: 'eq numeric string', where: [{ attribute: 'age', op: 'eq', value: '30' }] },
  { name: 'neq number', where: [{ attribute: 'age', op: 'neq', value: 30 }] },
  { name: 'in mixed types', where: [{ attribute: 'age', op: 'in', value: [30, '31', 40, true] }] },
  { name: 'notIn numbers', where: [{ attribute: 'age', op: 'notIn', value: [30, 40] }] },
  { name: 'eq true', where: [{ attribute: 'vip', op: 'eq', value: true }] },
  { name: 'eq false', where: [{ attribute: 'vip', op: 'eq', value: false }] },
  { name: 'in true or 1', where: [{ attribute: 'vip', op: 'in', value: [true, 1] }] },
  { name: 'notIn booleans', where: [{ attribute: 'vip', op: 'notIn', value: [true, false] }] },
  { name: 'gt number', where: [{ attribute: 'score', op: 'gt', value: 10 }] },
  { name: 'gte real', where: [{ attribute: 'score', op: 'gte', value: 10.5 }] },
  { name: 'lt zero', where: [{ attribute: 'score', op: 'lt', value: 0 }] },
  { name: 'lte number against age', where: [{ attribute: 'age', op: 'lte', value: 30 }] },
  { name: 'gt string', where: [{ attribute: 'name', op: 'gt', value: 'M' }] },
  { name: 'lt string, case', where: [{ attribute: 'name', op: 'lt', value: 'b' }] },
  { name: 'gte private use', where: [{ attribute: 'name', op: 'gte', value: '\uE000' }] },
  { name: 'lte astral', where: [{ attribute: 'name', op: 'lte', value: '\u{1F600}' }] },
  { name: 'gt string against numbers', where: [{ attribute: 'score', op: 'gt', value: '1' }] },
  { name: 'contains substring', where: [{ attribute: 'bio', op: 'contains', value: 'an' }] },
  { name: 'contains empty string', where: [{ attribute: 'bio', op: 'contains', value: '' }] },
  { name: 'contains element string', where: [{ attribute: 'tags', op: 'contains', value: 'beta' }] },
  { name: 'contains element number', where: [{ attribute: 'tags', op: 'contains', value: 7 }] },
  { name: 'contains element true', where: [{ attribute: 'tags', op: 'contains', value: true }] },
  { name: 'contains element false', where: [{ attribute: 'tags', op: 'contains', value: false }] },
  { name: 'contains empty element', where: [{ attribute: 'tags', op: 'contains', value: '' }] },
  { name: 'exists with nulls', where: [{ attribute: 'nickname', op: 'exists' }] },
  { name: 'notExists with nulls', where: [{ attribute: 'vip', op: 'notExists' }] },
  { name: 'three levels', where: [{ attribute: 'plan.limits.daily', op: 'lt', value: 100 }] },
  { name: 'through a string', where: [{ attribute: 'plan.tier.name', op: 'exists' }] },
  { name: 'through an array', where: [{ attribute: 'plan.limits.daily', op: 'notExists' }] },
  { name: 'numeric string seats', where: [{ attribute: 'plan.seats', op: 'gte', value: 5 }] },
  { name: 'own constructor', where: [{ attribute: 'constructor', op: 'exists' }] },
  { name: 'inherited toString', where: [{ attribute: 'toString', op: 'notExists' }] },
  { name: 'hyphenated key', where: [{ attribute: 'first-name', op: 'eq', value: 'Ana' }] },
  { name: 'underscore key', where: [{ attribute: '_private', op: 'eq', value: true }] },
  { name: 'consent eq in', where: [{ consent: 'email', op: 'eq', value: 'in' }] },
  { name: 'consent neq in', where: [{ consent: 'email', op: 'neq', value: 'in' }] },
  { name: 'consent eq out', where: [{ consent: 'sms', op: 'eq', value: 'out' }] },
  { name: 'consent exists', where: [{ consent: 'sms', op: 'exists' }] },
  { name: 'consent notExists', where: [{ consent: 'push', op: 'notExists' }] },
  { name: 'locale prefix', where: [{ locale: ['fr'] }] },
  { name: 'locale exact or prefix', where: [{ locale: ['fr-CA', 'pt'] }] },
  { name: 'locale longer than the profile', where: [{ locale: ['zh-Hant'] }] },
  { name: 'locale any', where: [{ locale: ['*'] }] },
  { name: 'locale any among tags', where: [{ locale: ['de', '*'] }] },
  { name: 'not a locale', where: [{ not: { locale: ['en'] } }] },
  {
    name: 'every condition of where',
    where: [{ attribute: 'age', op: 'gte', value: 30 }, { consent: 'email', op: 'eq', value: 'in' }, { locale: ['fr', 'en'] }],
  },
  {
    name: 'and',
    where: [
      {
        and: [
          { attribute: 'vip', op: 'eq', value: true },
          { consent: 'email', op: 'neq', value: 'out' },
        ],
      },
    ],
  },
  { name: 'or', where: [{ or: [{ attribute: 'age', op: 'gt', value: 35 }, { locale: ['pt'] }, { attribute: 'tags', op: 'exists' }] }] },
  {
    name: 'not or',
    where: [
      {
        not: {
          or: [
            { attribute: 'plan.tier', op: 'eq', value: 'pro' },
            { consent: 'sms', op: 'exists' },
          ],
        },
      },
    ],
  },
  {
    name: 'nested groups',
    where: [
      {
        and: [
          {
            or: [
              { attribute: 'age', op: 'in', value: [30, 41] },
              { attribute: 'name', op: 'exists' },
            ],
          },
          { not: { and: [{ consent: 'email', op: 'eq', value: 'out' }, { locale: ['*'] }] } },
          { not: { not: { attribute: 'nickname', op: 'notExists' } } },
        ],
      },
    ],
  },
];

describe('condition steps and audience rules', () => {
  let db: HeraldDb;
  let profiles: Profile[];

  beforeAll(async () => {
    db = await openMigratedDatabase(':memory:');
    const repository = new ProfileRepository(db);
    await repository.upsertMany(PROFILES.map((profile) => ({ namespace: NAMESPACE, ...profile })));
    // Read back as the worker reads a recipient's profile, so the evaluator sees what the database holds.
    profiles = await Promise.all(PROFILES.map(async ({ userId }) => (await repository.get(NAMESPACE, userId))!));
  });

  afterAll(async () => {
    await db?.destroy();
  });

  const sqlMembers = async (where: AudienceCondition[]): Promise<string[]> => {
    let query = db.selectFrom('profiles').select('user_id').where('namespace', '=', NAMESPACE);
    if (where.length > 0) query = query.where(compileAudienceRule(db, where));
    return (await query.orderBy('user_id').execute()).map((row) => row.user_id);
  };

  const evaluatorMembers = (where: AudienceCondition[]): string[] =>
    profiles
      .filter((profile) =>
        evaluateStepConditions(where, {
          profile: { attributes: profile.attributes, consents: profile.consents, locale: profile.locale },
          context: {},
          outcomes: {},
        }),
      )
      .map((profile) => profile.userId)
      .sort();

  it.each(RULES)('selects the same profiles: $name', async ({ where }) => {
    expect(evaluatorMembers(where)).toEqual(await sqlMembers(where));
  });

  it('tells the profiles apart: most rules select some profiles, not all', async () => {
    const splitting = [];
    for (const { name, where } of RULES) {
      const members = await sqlMembers(where);
      if (members.length > 0 && members.length < PROFILES.length) splitting.push(name);
    }
    expect(splitting.length).toBeGreaterThanOrEqual(RULES.length - 3);
  });

  it('holds each profile condition to the same meaning for a recipient without a profile as for an empty profile', async () => {
    const empty = (await sqlMembers([{ attribute: 'plan', op: 'notExists' }])).includes('p01');
    expect(empty).toBe(true);
    for (const { name, where } of RULES) {
      const withoutProfile = evaluateStepConditions(where, { context: {}, outcomes: {} });
      expect(withoutProfile, name).toBe((await sqlMembers(where)).includes('p01'));
    }
  });
});
