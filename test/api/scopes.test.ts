import { createRoute, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/create-app';
import { serviceDependencies } from '../../src/services/service-dependencies';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { createApiKey, heraldAs, withKey, type Requester } from '../support/api-keys';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'scopes-bootstrap-key';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const trigger = (campaignId: string, userId = 'ada@example.com') => ({
  requestId: uniqueRequestId('scopes'),
  campaignId,
  recipients: [{ userId, namespace: 'email' }],
});

describe('API key scopes', () => {
  let herald: Herald;
  let full: Requester;
  let campaignA: { id: string };
  let campaignB: { id: string };
  let triggerKey: Requester;
  let limitedKey: Requester;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT } });
    full = withKey(herald, BOOT);
    campaignA = await liveCampaign(heraldAs(herald, BOOT));
    campaignB = await liveCampaign(heraldAs(herald, BOOT));
    triggerKey = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    limitedKey = withKey(herald, (await createApiKey(full, { scope: 'trigger', campaignIds: [campaignA.id] })).key);
  });
  afterAll(() => herald.stop());

  const document = async () =>
    (await herald.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>> };

  it('every /v1 operation in the OpenAPI document declares the key scopes it admits', async () => {
    const doc = await document();
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([method]) => METHODS.includes(method))
          .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
      );
    expect(operations.length).toBeGreaterThan(10);
    // The inbox's subscriber calls take a subscriber token (src/api/subscriber-access.ts), never an API key.
    const subscriberOperations = operations.filter(({ operation }) => operation.security?.some((r) => 'subscriberToken' in r)).map(({ name }) => name);
    expect(subscriberOperations.sort()).toEqual([
      'GET /v1/inbox/messages',
      'GET /v1/inbox/preferences',
      'GET /v1/inbox/stream',
      'PATCH /v1/inbox/messages/{id}',
      'POST /v1/inbox/messages/read-all',
      'PUT /v1/inbox/preferences',
    ]);
    for (const { name, operation } of operations.filter((o) => !subscriberOperations.includes(o.name))) {
      const scopes = (operation.security ?? []).flatMap((requirement) => requirement.bearerAuth ?? []);
      expect(scopes.length, name).toBeGreaterThan(0);
      expect(['full', 'trigger'], name).toEqual(expect.arrayContaining(scopes));
    }
    const forTriggerKeys = operations.filter(({ operation }) => operation.security!.some((r) => r.bearerAuth?.includes('trigger'))).map(({ name }) => name);
    expect(forTriggerKeys.sort()).toEqual([
      'GET /v1/executions',
      'GET /v1/executions/{executionId}',
      'POST /v1/events',
      'POST /v1/executions/cancel',
      'POST /v1/executions/topic',
      'POST /v1/executions/unitary',
      'POST /v1/inbox/tokens',
    ]);
  });

  it('a trigger key gets 403 from every operation in the document except triggering, events, cancelling and reading its own executions', async () => {
    const own = await triggerKey('POST', '/v1/executions/unitary', trigger(campaignA.id));
    expect(own.status).toBe(202);
    const params: Record<string, string> = { id: campaignA.id, executionId: own.body.executionId, namespace: 'email', userId: 'ada@example.com' };
    const doc = await document();
    const answers: Record<string, number> = {};
    for (const [template, item] of Object.entries(doc.paths)) {
      if (!template.startsWith('/v1/')) continue;
      for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'x'));
        const bodies: Record<string, unknown> = {
          '/v1/executions/unitary': trigger(campaignA.id),
          // Campaign steps: an event reaches the waits of campaigns the key may trigger; a cancellation names one.
          '/v1/events': { name: 'order.paid', namespace: 'email', userId: 'ada@example.com' },
          '/v1/executions/cancel': { campaignId: campaignA.id, cancellationKey: 'login-ada' },
          '/v1/executions/topic': { requestId: `topic-${Date.now()}`, campaignId: campaignA.id, topic: 'no-such-topic' },
          '/v1/inbox/tokens': { namespace: 'email', userId: 'ada@example.com' },
        };
        const body = bodies[template] ?? (['post', 'put', 'patch'].includes(method) ? {} : undefined);
        const res = await triggerKey(method.toUpperCase(), path, body);
        answers[`${method.toUpperCase()} ${template}`] = res.status;
        if (res.status === 403) {
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          expect(res.body.type).toBe('forbidden');
        }
      }
    }
    const allowed = {
      'POST /v1/executions/unitary': 202,
      'GET /v1/executions/{executionId}': 200,
      'GET /v1/executions': 200,
      'POST /v1/events': 202,
      'POST /v1/executions/cancel': 200,
      // Topics and subscriber tokens take trigger keys too; these answers are past the scope check.
      'POST /v1/executions/topic': 404,
      'POST /v1/inbox/tokens': 422,
      // A subscriber token's calls refuse an API key as a token.
      'GET /v1/inbox/preferences': 401,
      'PUT /v1/inbox/preferences': 401,
      'GET /v1/inbox/messages': 401,
      'PATCH /v1/inbox/messages/{id}': 401,
      'POST /v1/inbox/messages/read-all': 401,
      'GET /v1/inbox/stream': 401,
    };
    expect(answers).toEqual(Object.fromEntries(Object.keys(answers).map((name) => [name, allowed[name as keyof typeof allowed] ?? 403])));
    expect(Object.keys(answers).length).toBeGreaterThan(10);
  });

  it('a key limited to campaigns triggers those only, and learns nothing about the others', async () => {
    expect((await limitedKey('POST', '/v1/executions/unitary', trigger(campaignA.id))).status).toBe(202);
    const other = await limitedKey('POST', '/v1/executions/unitary', trigger(campaignB.id));
    expect(other.status).toBe(403);
    expect(other.body.type).toBe('forbidden');
    // An unknown campaign answers exactly like an existing one: the check comes before the lookup.
    const unknown = await limitedKey('POST', '/v1/executions/unitary', trigger('no-such-campaign'));
    expect(unknown.status).toBe(403);
    expect(unknown.body.type).toBe('forbidden');
    // The unlimited trigger key may trigger any campaign.
    expect((await triggerKey('POST', '/v1/executions/unitary', trigger(campaignB.id))).status).toBe(202);
    // Cancelling a campaign's runs is triggering's other half: limited the same way.
    expect((await limitedKey('POST', '/v1/executions/cancel', { campaignId: campaignB.id, cancellationKey: 'k' })).status).toBe(403);
    expect(await limitedKey('POST', '/v1/executions/cancel', { campaignId: campaignA.id, cancellationKey: 'k' })).toMatchObject({
      status: 200,
      body: { cancelled: 0 },
    });
  });

  it('a trigger key reads the executions it started and no others', async () => {
    const mine = (await triggerKey('POST', '/v1/executions/unitary', trigger(campaignA.id))).body.executionId as string;
    const theirs = (await limitedKey('POST', '/v1/executions/unitary', trigger(campaignA.id))).body.executionId as string;
    const byFullKey = (await full('POST', '/v1/executions/unitary', trigger(campaignA.id))).body.executionId as string;

    const read = await triggerKey('GET', `/v1/executions/${mine}`);
    expect(read.status).toBe(200);
    expect(read.body.executionId).toBe(mine);
    for (const id of [theirs, byFullKey, 'no-such-execution']) {
      const res = await triggerKey('GET', `/v1/executions/${id}`);
      expect(res.status, id).toBe(403);
      expect(res.body.type).toBe('forbidden');
    }
    expect((await limitedKey('GET', `/v1/executions/${theirs}`)).status).toBe(200);
    expect((await limitedKey('GET', `/v1/executions/${mine}`)).status).toBe(403);
    // A full-access key reads every execution.
    for (const id of [mine, theirs, byFullKey]) expect((await full('GET', `/v1/executions/${id}`)).status).toBe(200);
    expect((await full('GET', '/v1/executions/no-such-execution')).status).toBe(404);
  });

  it('denies a /v1 route that declares no scopes, and never runs a /v1 handler the document does not declare', async () => {
    const app = createApp(serviceDependencies(herald.config, herald.db, herald.client));
    let ran = 0;
    app.openapi(
      createRoute({
        method: 'get',
        path: '/v1/undeclared',
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({}) } } } },
      }),
      (c) => {
        ran++;
        return c.json({}, 200);
      },
    );
    app.get('/v1/hidden', (c) => {
      ran++;
      return c.json({});
    });
    const headers = { authorization: `Bearer ${BOOT}` };
    const undeclared = await app.request('/v1/undeclared', { headers });
    expect(undeclared.status).toBe(403);
    expect(await undeclared.json()).toMatchObject({ type: 'forbidden' });
    expect((await app.request('/v1/hidden', { headers })).status).toBe(404);
    expect(ran).toBe(0);
    expect((await app.request('/v1/campaigns', { headers })).status).toBe(200);
  });
});

describe('the outbox route', () => {
  it('exists, for full-access keys, while the outbox is the email provider', async () => {
    const herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT, HERALD_EMAIL_PROVIDER: 'outbox' } });
    try {
      expect((await withKey(herald, BOOT)('GET', '/v1/outbox')).status).toBe(200);
      const triggerOnly = await createApiKey(withKey(herald, BOOT), { scope: 'trigger' });
      expect((await withKey(herald, triggerOnly.key)('GET', '/v1/outbox')).status).toBe(403);
      expect(Object.keys((await herald.request('GET', '/openapi.json')).body.paths)).toContain('/v1/outbox');
    } finally {
      await herald.stop();
    }
  });

  it('is a 404, absent from the OpenAPI document, with other providers for email, SMS and every push platform', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nunused\n-----END PRIVATE KEY-----';
    const push = {
      VAPID_SUBJECT: 'mailto:ops@example.com',
      VAPID_PUBLIC_KEY: Buffer.alloc(65, 4).toString('base64url'),
      VAPID_PRIVATE_KEY: Buffer.alloc(32, 7).toString('base64url'),
      FCM_PROJECT_ID: 'acme',
      FCM_SERVICE_ACCOUNT: JSON.stringify({ client_email: 'herald@acme.example', private_key: pem }),
      APNS_TEAM_ID: 'TEAM123456',
      APNS_KEY_ID: 'KEY1234567',
      APNS_BUNDLE_ID: 'com.example.app',
      APNS_PRIVATE_KEY: pem,
    };
    const herald = await startHerald({
      withoutWorker: true,
      env: { HERALD_API_KEYS: BOOT, HERALD_EMAIL_PROVIDER: 'resend', RESEND_API_KEY: 're_test', HERALD_SMS_PROVIDER: 'twilio', ...push },
    });
    try {
      const res = await withKey(herald, BOOT)('GET', '/v1/outbox');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(Object.keys((await herald.request('GET', '/openapi.json')).body.paths)).not.toContain('/v1/outbox');
    } finally {
      await herald.stop();
    }
  });
});
