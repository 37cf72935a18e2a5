import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/create-app';
import { addressKey, apiLimiters, AuthFailureLimiter, CallRateLimiter } from '../../src/api/middlewares/rate-limit';
import { openMigratedDatabase } from '../../src/db/database';
import { environmentKeyId } from '../../src/domain/api-key';
import { serveApi } from '../../src/entry/serve-api';
import { serviceDependencies } from '../../src/services/service-dependencies';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { emailCampaign } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { requestJson } from '../support/http-json';

const BOOT = 'api-keys-bootstrap-key';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('API keys over the API', () => {
  let herald: Herald;
  let full: Requester;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald.stop());

  it('creates a key and shows its secret once, with a recognisable prefix and no caching', async () => {
    const res = await full('POST', '/v1/api-keys', { name: 'checkout', scope: 'trigger' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'checkout',
      scope: 'trigger',
      createdAt: expect.any(String),
      key: expect.stringMatching(/^hrld_[A-Za-z0-9_-]{43}$/),
    });
    expect(
      (
        await withKey(herald, res.body.key)('POST', '/v1/executions/unitary', {
          requestId: 'r',
          campaignId: 'c',
          recipients: [{ userId: 'u', namespace: 'email' }],
        })
      ).status,
    ).not.toBe(401);
  });

  it('lists keys without secrets or hashes, and the database holds no plaintext key', async () => {
    const created = await createApiKey(full, { name: 'listed', scope: 'full' });
    const list = await full('GET', '/v1/api-keys');
    expect(list.status).toBe(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === created.id);
    expect(listed).toEqual({ id: created.id, name: 'listed', scope: 'full', createdAt: created.createdAt, lastUsedAt: null });
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(created.key.slice(5));
    expect(text).not.toContain(sha256(created.key));

    const rows = await herald.db.selectFrom('api_keys').selectAll().execute();
    const row = rows.find((r) => r.id === created.id)!;
    expect(row.token_hash).toBe(sha256(created.key));
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(created.key);
    expect(dump).not.toContain(created.key.slice(5));
    // Neither do the other tables (the audit log names the key, never its secret).
    for (const table of ['audit_log', 'campaigns'] as const)
      expect(JSON.stringify(await herald.db.selectFrom(table).selectAll().execute())).not.toContain(created.key.slice(5));
  });

  it('records lastUsedAt, at most about once a minute per key', async () => {
    const created = await createApiKey(full, { scope: 'full' });
    const key = withKey(herald, created.key);
    expect((await key('GET', '/v1/campaigns')).status).toBe(200);
    const first = (await herald.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow()).last_used_at;
    expect(first).toEqual(expect.any(String));
    await new Promise((r) => setTimeout(r, 20));
    expect((await key('GET', '/v1/campaigns')).status).toBe(200);
    const second = (await herald.db.selectFrom('api_keys').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow()).last_used_at;
    expect(second).toBe(first);
    const listed = (await full('GET', '/v1/api-keys')).body.items.find((k: { id: string }) => k.id === created.id);
    expect(listed.lastUsedAt).toBe(first);
  });

  it('refuses campaignIds on a full key and unknown campaigns on a trigger key', async () => {
    const campaign = (await full('POST', '/v1/campaigns', emailCampaign())).body;
    const onFull = await full('POST', '/v1/api-keys', { name: 'x', scope: 'full', campaignIds: [campaign.id] });
    expect(onFull.status).toBe(400);
    expect(onFull.body.errors).toEqual([{ field: 'campaignIds', message: expect.any(String) }]);
    const unknown = await full('POST', '/v1/api-keys', { name: 'x', scope: 'trigger', campaignIds: [campaign.id, 'nope'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'campaignIds.1', message: expect.stringContaining('nope') }]);
    const limited = await full('POST', '/v1/api-keys', { name: 'x', scope: 'trigger', campaignIds: [campaign.id] });
    expect(limited.status).toBe(201);
    expect(limited.body.campaignIds).toEqual([campaign.id]);
  });

  it('only full-access keys manage keys', async () => {
    const triggerKey = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    expect((await triggerKey('POST', '/v1/api-keys', { name: 'escalate', scope: 'full' })).status).toBe(403);
    expect((await triggerKey('GET', '/v1/api-keys')).status).toBe(403);
    const managedFull = withKey(herald, (await createApiKey(full, { scope: 'full' })).key);
    expect((await managedFull('POST', '/v1/api-keys', { name: 'made by a managed key', scope: 'trigger' })).status).toBe(201);
  });

  it('revokes at once; a revoked or unknown key is a 404 to revoke, a bootstrap key a 409', async () => {
    const created = await createApiKey(full, { scope: 'full' });
    const key = withKey(herald, created.key);
    expect((await key('GET', '/v1/campaigns')).status).toBe(200);
    expect((await full('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(204);
    const refused = await key('GET', '/v1/campaigns');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await full('GET', '/v1/api-keys')).body.items.map((k: { id: string }) => k.id)).not.toContain(created.id);
    expect((await full('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(404);
    expect((await full('DELETE', '/v1/api-keys/no-such-key')).status).toBe(404);
    const bootstrap = await full('DELETE', `/v1/api-keys/${environmentKeyId(BOOT)}`);
    expect(bootstrap.status).toBe(409);
    expect(bootstrap.body.type).toBe('api-key-from-environment');
  });

  it('revocation holds at once in another API process on the same database', async () => {
    const otherDb = await openMigratedDatabase(herald.config.database);
    const other = await serveApi({ ...herald.config, http: { ...herald.config.http, port: 0 } }, otherDb, herald.client, () => {});
    const otherUrl = `http://127.0.0.1:${other.port}`;
    try {
      const created = await createApiKey(full, { scope: 'full' });
      const onOther = () => requestJson(otherUrl, 'GET', '/v1/campaigns', undefined, { authorization: `Bearer ${created.key}` });
      for (let i = 0; i < 3; i++) expect((await onOther()).status).toBe(200);
      expect((await full('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(204);
      expect((await onOther()).status).toBe(401);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
      await otherDb.destroy();
    }
  });

  it('requires a key on /v1 but keeps health and the document public', async () => {
    expect((await herald.request('GET', '/v1/api-keys')).status).toBe(401);
    expect((await herald.request('GET', '/health/live')).status).toBe(200);
    expect((await herald.request('GET', '/openapi.json')).status).toBe(200);
  });
});

describe('API keys when the API runs open (loopback, no HERALD_API_KEYS)', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true });
  });
  afterAll(() => herald.stop());

  it('gives full access without credentials, but checks a key that is presented', async () => {
    expect((await herald.request('GET', '/v1/campaigns')).status).toBe(200);
    const created = await herald.request('POST', '/v1/api-keys', { name: 'sender', scope: 'trigger' });
    expect(created.status).toBe(201);
    const triggerKey = withKey(herald, created.body.key);
    expect((await triggerKey('GET', '/v1/campaigns')).status).toBe(403);
    expect((await withKey(herald, 'hrld_not-a-real-key')('GET', '/v1/campaigns')).status).toBe(401);
    expect((await herald.request('GET', '/v1/campaigns', undefined, { authorization: 'Basic dXNlcjpwYXNz' })).status).toBe(401);
    const audit = await herald.request('GET', `/v1/audit-log?resourceId=${created.body.id}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'api_key.created', actorKeyId: 'open' });
  });
});

describe('failed authentications', () => {
  it('are limited per client address: a wrong key past the limit gets 429 with Retry-After', async () => {
    const herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT, HERALD_AUTH_FAILURE_LIMIT: '3' } });
    try {
      for (let i = 0; i < 3; i++) expect((await withKey(herald, `wrong-${i}`)('GET', '/v1/campaigns')).status).toBe(401);
      const limited = await withKey(herald, 'wrong-again')('GET', '/v1/campaigns');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toContain('application/problem+json');
      expect(limited.body.type).toBe('too-many-failed-authentications');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(20); // one failure's worth of a minute at 3/min
      // Only wrong keys are limited: the right key from the same address still gets in.
      expect((await withKey(herald, BOOT)('GET', '/v1/campaigns')).status).toBe(200);
      expect((await withKey(herald, 'wrong-after-right')('GET', '/v1/campaigns')).status).toBe(429);
    } finally {
      await herald.stop();
    }
  });

  it('never lock out a valid key: 25 wrong keys from one address (limit 20), then valid keys still get 200', async () => {
    // The default limit (20 a minute). Behind one proxy or NAT, every client shares the address.
    const herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT } });
    try {
      const managed = await createApiKey(withKey(herald, BOOT), { scope: 'full' });
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await withKey(herald, i % 2 ? `hrld_wrong-${i}` : `wrong-${i}`)('GET', '/v1/campaigns')).status);
      expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array<number>(5).fill(429));
      // Valid keys, bootstrap and managed, pass as if nothing had happened, again and again.
      for (let i = 0; i < 3; i++) {
        expect((await withKey(herald, BOOT)('GET', '/v1/campaigns')).status).toBe(200);
        expect((await withKey(herald, managed.key)('GET', '/v1/campaigns')).status).toBe(200);
      }
      // A valid key does not lift the limit for wrong ones: wrong keys are still refused. (Two in a
      // row: at 20 a minute one failure comes back every 3 s, however slow this machine is.)
      await withKey(herald, 'hrld_still-wrong')('GET', '/v1/campaigns');
      const wrong = await withKey(herald, 'hrld_still-wrong')('GET', '/v1/campaigns');
      expect(wrong.status).toBe(429);
      expect(wrong.body.type).toBe('too-many-failed-authentications');
      expect(Number(wrong.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // A revoked key is a wrong key again.
      expect((await withKey(herald, BOOT)('DELETE', `/v1/api-keys/${managed.id}`)).status).toBe(204);
      await withKey(herald, managed.key)('GET', '/v1/campaigns');
      expect((await withKey(herald, managed.key)('GET', '/v1/campaigns')).status).toBe(429);
    } finally {
      await herald.stop();
    }
  });

  it('never create state for the tokens that failed, and one entry per address', async () => {
    const herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT, HERALD_AUTH_FAILURE_LIMIT: '1000' } });
    try {
      const limiters = apiLimiters(herald.config.http);
      const app = createApp(serviceDependencies(herald.config, herald.db, herald.client), limiters);
      const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
      for (let i = 0; i < 50; i++) {
        const res = await app.request('/v1/campaigns', { headers: { authorization: `Bearer hrld_unknown-${i}` } }, from('203.0.113.9'));
        expect(res.status).toBe(401);
      }
      expect(limiters.calls.size).toBe(0);
      expect(limiters.authFailures.size).toBe(1);
      // IPv6 callers count per /64: rotating addresses inside one does not escape the limit.
      for (let i = 0; i < 20; i++)
        await app.request('/v1/campaigns', { headers: { authorization: 'Bearer nope' } }, from(`2001:db8:aa:bb:${i.toString(16)}::${i + 1}`));
      expect(limiters.authFailures.size).toBe(2);
      // A valid key gets one call bucket, under its id, never under the token.
      expect((await app.request('/v1/campaigns', { headers: { authorization: `Bearer ${BOOT}` } }, from('198.51.100.1'))).status).toBe(200);
      expect(limiters.calls.callers()).toEqual([`key:${environmentKeyId(BOOT)}`]);
    } finally {
      await herald.stop();
    }
  });
});

describe('limiter memory', () => {
  it('stays bounded however many addresses fail', () => {
    const failures = new AuthFailureLimiter(5, 1000);
    for (let i = 0; i < 20_000; i++) failures.recordFailure(addressKey(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    expect(failures.size).toBe(1000);
    const calls = new CallRateLimiter(1000);
    for (let i = 0; i < 20_000; i++) calls.take(`address:${i}`, 10);
    expect(calls.size).toBe(1000);
  });

  it('blocks after the limit and never creates an entry just by asking', () => {
    const failures = new AuthFailureLimiter(2);
    expect(failures.retryAfterSeconds('192.0.2.1')).toBe(0);
    expect(failures.size).toBe(0);
    failures.recordFailure('192.0.2.1');
    expect(failures.retryAfterSeconds('192.0.2.1')).toBe(0);
    failures.recordFailure('192.0.2.1');
    expect(failures.retryAfterSeconds('192.0.2.1')).toBeGreaterThanOrEqual(1);
    expect(failures.retryAfterSeconds('192.0.2.2')).toBe(0);
  });

  it('keys IPv6 callers by their /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey(undefined)).toBe('unknown');
  });
});
