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

  it('answers 404 for an unknown profile and 400 for a bad body', async () => {
    expect((await herald.request('GET', '/v1/profiles/crm/nobody')).status).toBe(404);
    const bad = await herald.request('PUT', '/v1/profiles/crm/u-2', { attributes: 'nope', consents: { email: 'maybe' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['attributes', 'consents.email']));
  });
});
