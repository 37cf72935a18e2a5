import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type Herald } from '../support/herald-harness';

describe('profiles', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
  });
  afterAll(() => herald.stop());

  it('upserts a profile: 201 on create, 200 on replace, consents merged', async () => {
    const created = await herald.request('PUT', '/v1/profiles/crm/u-1', { attributes: { firstName: 'Ada' }, consents: { email: 'in' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ namespace: 'crm', userId: 'u-1', attributes: { firstName: 'Ada' }, consents: { email: 'in' }, autoCreated: false });
    const replaced = await herald.request('PUT', '/v1/profiles/crm/u-1', { attributes: { firstName: 'Grace' } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ attributes: { firstName: 'Grace' }, consents: { email: 'in' } });
    const fetched = await herald.request('GET', '/v1/profiles/crm/u-1');
    expect(fetched.body).toEqual(replaced.body);
  });

  it('merges the consents of concurrent calls in the database, losing none', async () => {
    expect((await herald.request('PUT', '/v1/profiles/crm/u-3', { attributes: {} })).status).toBe(201);
    const calls = await Promise.all(
      (['email', 'sms', 'push'] as const).map((channel) => herald.request('PUT', '/v1/profiles/crm/u-3', { attributes: {}, consents: { [channel]: 'in' } })),
    );
    // SQLite may refuse a concurrent writer briefly (503, retried by the client); none is a 500.
    for (const [i, call] of calls.entries()) {
      if (call.status === 503)
        calls[i] = await herald.request('PUT', '/v1/profiles/crm/u-3', { attributes: {}, consents: { [(['email', 'sms', 'push'] as const)[i]!]: 'in' } });
    }
    expect(calls.map((c) => c.status)).toEqual([200, 200, 200]);
    expect((await herald.request('GET', '/v1/profiles/crm/u-3')).body.consents).toEqual({ email: 'in', sms: 'in', push: 'in' });
  });

  it('refuses U+0000 in attributes with 400, in both dialects (jsonb cannot hold it)', async () => {
    const bad = await herald.request('PUT', '/v1/profiles/crm/u-4', { attributes: { 'a\u0000': 'x' } });
    expect(bad.status).toBe(400);
    expect((await herald.request('PUT', '/v1/profiles/crm/u-4', { attributes: { a: { b: 'x\u0000' } } })).status).toBe(400);
  });

  it('answers 404 for an unknown profile and 400 for a bad body', async () => {
    expect((await herald.request('GET', '/v1/profiles/crm/nobody')).status).toBe(404);
    const bad = await herald.request('PUT', '/v1/profiles/crm/u-2', { attributes: 'nope', consents: { email: 'maybe' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['attributes', 'consents.email']));
  });
});
