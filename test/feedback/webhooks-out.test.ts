import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedLookup, postWebhook } from '../../src/channels/webhooks/post-webhook';
import { isPublicAddress, webhookUrlProblem } from '../../src/domain/webhook-target';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';
import { FeedbackEventRepository } from '../../src/repositories/feedback-events';
import { feedbackMessage, feedbackRequestBody } from '../../src/domain/feedback-webhook';
import { createApiKey, heraldAs, withKey, type Requester } from '../support/api-keys';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { listenOnLoopback, readBody } from '../support/loopback-server';

const BOOT = 'webhooks-out-bootstrap-key';
const TRACKING_SECRET = randomBytes(32).toString('base64url');

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the fake answered. */
  status: number;
}

/**
 * A customer's endpoint on loopback. Each path answers 500 while `failing[path]` says so (a
 * number: that many more requests), then 200.
 */
async function startCustomer() {
  const received: Received[] = [];
  const failing: Record<string, number | 'always'> = {};
  const { server, url } = await listenOnLoopback(
    async (req, res) => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      const rule = failing[path];
      let status = 200;
      if (rule === 'always') status = 500;
      else if (typeof rule === 'number' && rule > 0) {
        failing[path] = rule - 1;
        status = 500;
      }
      received.push({ path, headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'down for maintenance');
    },
    () => ({}),
  );
  return { received, failing, url, server };
}

/** The single-event messages of a request body (a `message.batch` holds several). */
function messagesOf(body: string): { type: string; timestamp: string; data: Record<string, any> }[] {
  const parsed = JSON.parse(body) as { type: string; timestamp: string; data: any };
  return parsed.type === 'message.batch' ? parsed.data.events : [parsed];
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Feedback webhooks out, end to end: a real Herald (API, Temporal worker, database of the suite's
 * dialect) sends through its outbox; each delivery's outcome is posted by the endpoint's
 * dispatcher workflow to a fake customer endpoint on loopback over HTTP, signed per Standard
 * Webhooks and checked with the `standardwebhooks` verifier.
 */
describe('feedback webhooks out', () => {
  let herald: Herald;
  let full: Requester;
  let customer: Awaited<ReturnType<typeof startCustomer>>;

  beforeAll(async () => {
    customer = await startCustomer();
    herald = await startHerald({
      env: {
        HERALD_API_KEYS: BOOT,
        HERALD_WEBHOOKS_ALLOW_PRIVATE: 'true',
        HERALD_WEBHOOK_RETRY_INITIAL_MS: '200',
        HERALD_WEBHOOK_POLL_MS: '200',
        HERALD_WEBHOOK_DISABLE_AFTER_FAILURES: '4',
        HERALD_TRACKING_SECRET: TRACKING_SECRET,
      },
    });
    full = withKey(herald, BOOT);
  });
  afterAll(async () => {
    // Deleting ends each dispatcher workflow.
    const list = await full('GET', '/v1/webhooks');
    for (const endpoint of list.body?.items ?? []) await full('DELETE', `/v1/webhooks/${endpoint.id}`);
    await herald?.stop();
    await new Promise<void>((resolve) => (customer?.server as Server | undefined)?.close(() => resolve()) ?? resolve());
  });

  async function createEndpoint(path: string, body: Record<string, unknown>) {
    const res = await full('POST', '/v1/webhooks', { url: `${customer.url}${path}`, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    return res.body as { id: string; secret: string; status: string };
  }

  async function trigger(campaignId: string, userIds: string[]) {
    const res = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('wh'),
      campaignId,
      recipients: userIds.map((userId) => ({ userId, namespace: 'email' })),
      context: { code: '1' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // herald.waitForExecution calls without a key; this Herald needs one.
    const execution = await until('the execution to end', async () => {
      const { body } = await full('GET', `/v1/executions/${res.body.executionId}`);
      return body?.status && body.status !== 'running' ? body : undefined;
    });
    return {
      executionId: res.body.executionId as string,
      requestId: execution.requestId as string,
      statuses: execution.recipients.map((r: { status: string }) => r.status) as string[],
    };
  }

  const at = (path: string) => customer.received.filter((request) => request.path === path);
  const verify = (secret: string, request: Received) => new Webhook(secret).verify(request.body, request.headers as Record<string, string>);

  it('delivers every event once acknowledged, signed, through an endpoint that fails then recovers; filters by event type and campaign', async () => {
    const transactional = await liveCampaign(heraldAs(herald, BOOT));
    const marketing = await liveCampaign(heraldAs(herald, BOOT), {
      name: 'News',
      type: 'marketing',
      audience: { namespace: 'email', createMissingProfiles: false },
    });
    for (const [userId, email] of [
      ['in@example.com', 'in'],
      ['out@example.com', 'out'],
    ] as const) {
      const res = await full('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, { attributes: { firstName: 'Ada' }, consents: { email } });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
    customer.failing['/all'] = 3;
    const all = await createEndpoint('/all', { events: ['sent', 'failed', 'excluded'] });
    const filtered = await createEndpoint('/filtered', { events: ['sent'], campaignIds: [marketing.id] });

    const first = await trigger(transactional.id, ['a@example.com', 'b@example.com', 'c@example.com']);
    expect(first.statuses).toEqual(['sent', 'sent', 'sent']);
    const second = await trigger(marketing.id, ['in@example.com', 'out@example.com', 'nobody@example.com']);
    expect(second.statuses).toEqual(['sent', 'excluded', 'failed']);

    const expected = [
      ...[0, 1, 2].map((position) => `${first.executionId}/${position}/sent`),
      `${second.executionId}/0/sent`,
      `${second.executionId}/1/excluded`,
      `${second.executionId}/2/failed`,
    ].sort();
    const acknowledged = () =>
      at('/all')
        .filter((request) => request.status === 200)
        .flatMap((request) => messagesOf(request.body));
    await until('all six events acknowledged', () => (acknowledged().length >= 6 ? true : undefined));

    // Every request (failed ones included) carries a valid Standard Webhooks signature.
    for (const request of at('/all')) expect(() => verify(all.secret, request)).not.toThrow();
    // A forged body does not verify.
    const sample = at('/all')[0]!;
    expect(() => new Webhook(all.secret).verify(sample.body.replace('message', 'massage'), sample.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(filtered.secret).verify(sample.body, sample.headers as Record<string, string>)).toThrow();

    // The first three requests failed (500), the fourth carried the same events again, with its attempt count.
    const requests = at('/all');
    expect(requests.slice(0, 3).map((r) => r.status)).toEqual([500, 500, 500]);
    expect(requests[3]!.status).toBe(200);
    expect(messagesOf(requests[0]!.body).map((m) => m.data.id)).toEqual(
      messagesOf(requests[3]!.body)
        .slice(0, messagesOf(requests[0]!.body).length)
        .map((m) => m.data.id),
    );
    expect(messagesOf(requests[3]!.body)[0]!.data.attempt).toBe(4);

    // None lost, none acknowledged twice (at least once: a retried request repeats the same data.id).
    const got = acknowledged();
    expect(got.map((m) => `${m.data.executionId}/${m.data.position}/${m.data.event}`).sort()).toEqual(expected);
    expect(new Set(got.map((m) => m.data.id)).size).toBe(got.length);

    const byKey = new Map(got.map((m) => [`${m.data.executionId}/${m.data.position}`, m]));
    const sent = byKey.get(`${second.executionId}/0`)!;
    expect(sent.type).toBe('message.sent');
    expect(sent.data).toMatchObject({
      event: 'sent',
      requestId: second.requestId,
      executionId: second.executionId,
      campaignId: marketing.id,
      campaignVersion: 1,
      userId: 'in@example.com',
      channel: 'email',
    });
    expect(sent.data.failure).toBeUndefined();
    expect(byKey.get(`${second.executionId}/1`)!.data).toMatchObject({
      event: 'excluded',
      userId: 'out@example.com',
      failure: { category: 'recipient', code: expect.any(String) },
    });
    expect(byKey.get(`${second.executionId}/2`)!.data).toMatchObject({
      event: 'failed',
      userId: 'nobody@example.com',
      failure: { category: 'recipient', code: 'profile-not-found', reason: 'profile-not-found' },
    });
    expect(Date.parse(sent.timestamp)).not.toBeNaN();

    // The filtered endpoint got exactly the marketing campaign's one sent event.
    await until('the filtered endpoint', () => (at('/filtered').length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const filteredEvents = at('/filtered').flatMap((request) => messagesOf(request.body));
    expect(filteredEvents.map((m) => `${m.data.executionId}/${m.data.position}/${m.data.event}`)).toEqual([`${second.executionId}/0/sent`]);
    for (const request of at('/filtered')) expect(() => verify(filtered.secret, request)).not.toThrow();

    // The attempts, newest first, with status codes.
    const attempts = await full('GET', `/v1/webhooks/${all.id}/attempts`);
    expect(attempts.status).toBe(200);
    const codes = (attempts.body.items as { statusCode: number }[]).map((a) => a.statusCode).reverse();
    expect(codes.slice(0, 4)).toEqual([500, 500, 500, 200]);
    expect(attempts.body.items.at(-1).error).toContain('500');

    // The secret is never shown again.
    const shown = JSON.stringify([(await full('GET', `/v1/webhooks/${all.id}`)).body, (await full('GET', '/v1/webhooks')).body]);
    expect(shown).toContain(all.id);
    expect(shown).not.toContain(all.secret);
    expect(shown).not.toContain(all.secret.slice('whsec_'.length, 20));
    // Nor stored in clear.
    const row = await herald.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', all.id).executeTakeFirstOrThrow();
    expect(row.secret).not.toContain(all.secret.slice('whsec_'.length));
  });

  it('disables an endpoint that keeps failing and shows it; re-enabling delivers what piled up', async () => {
    const campaign = await liveCampaign(heraldAs(herald, BOOT));
    customer.failing['/broken'] = 'always';
    const broken = await createEndpoint('/broken', { events: ['sent'], campaignIds: [campaign.id] });
    const run = await trigger(campaign.id, ['d@example.com']);

    const disabled = await until('the endpoint disabled', async () => {
      const res = await full('GET', `/v1/webhooks/${broken.id}`);
      return res.body.status === 'disabled' ? res.body : undefined;
    });
    expect(disabled.disabledReason).toContain('4 failed requests');
    expect(at('/broken').map((r) => r.status)).toEqual([500, 500, 500, 500]);
    // Its dispatcher ended: nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(at('/broken')).toHaveLength(4);

    delete customer.failing['/broken'];
    const enabled = await full('PATCH', `/v1/webhooks/${broken.id}`, { enabled: true });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(enabled.body).toMatchObject({ status: 'enabled', disabledReason: null, consecutiveFailures: 0 });
    await until('the piled-up event', () => (at('/broken').some((r) => r.status === 200) ? true : undefined));
    const delivered = at('/broken')
      .filter((r) => r.status === 200)
      .flatMap((r) => messagesOf(r.body));
    expect(delivered.map((m) => `${m.data.executionId}/${m.data.event}`)).toEqual([`${run.executionId}/sent`]);
    expect(delivered[0]!.data.attempt).toBe(1);
  });

  it('POST /test sends a signed test event now and answers its status; /attempts lists it; changes are audited', async () => {
    const endpoint = await createEndpoint('/test-target', { events: ['opened', 'clicked'] });
    const res = await full('POST', `/v1/webhooks/${endpoint.id}/test`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ ok: true, statusCode: 200, error: null });
    const [request] = at('/test-target');
    expect(verify(endpoint.secret, request!)).toMatchObject({ type: 'message.test', data: { endpointId: endpoint.id } });

    customer.failing['/test-target'] = 1;
    const failed = await full('POST', `/v1/webhooks/${endpoint.id}/test`);
    expect(failed.body).toMatchObject({ ok: false, statusCode: 500 });
    const attempts = await full('GET', `/v1/webhooks/${endpoint.id}/attempts`);
    expect((attempts.body.items as { statusCode: number; eventIds: number[] }[]).map((a) => a.statusCode)).toEqual([500, 200]);

    const patched = await full('PATCH', `/v1/webhooks/${endpoint.id}`, { events: ['clicked'], url: `${customer.url}/elsewhere` });
    expect(patched.body).toMatchObject({ events: ['clicked'], url: `${customer.url}/elsewhere` });
    expect((await full('PATCH', `/v1/webhooks/${endpoint.id}`, { url: 'ftp://example.com/x' })).status).toBe(400);
    expect((await full('POST', '/v1/webhooks', { url: `${customer.url}/x`, events: ['nonsense'] })).status).toBe(400);
    expect((await full('POST', '/v1/webhooks', { url: `${customer.url}/x`, events: [] })).status).toBe(400);

    expect((await full('DELETE', `/v1/webhooks/${endpoint.id}`)).status).toBe(204);
    expect((await full('GET', `/v1/webhooks/${endpoint.id}`)).status).toBe(404);
    expect((await full('POST', `/v1/webhooks/${endpoint.id}/test`)).status).toBe(404);

    const audit = await full('GET', `/v1/audit-log?resourceType=webhook_endpoint&resourceId=${endpoint.id}`);
    expect(audit.status, JSON.stringify(audit.body)).toBe(200);
    expect((audit.body.items as { action: string }[]).map((entry) => entry.action).sort()).toEqual([
      'webhook_endpoint.created',
      'webhook_endpoint.deleted',
      'webhook_endpoint.updated',
    ]);
    expect(JSON.stringify(audit.body)).not.toContain(endpoint.secret);
  });

  it('posts opens and clicks recorded by the public tracking endpoints, a click with its URL', async () => {
    const html = '<html><body><p>Hi</p><a href="https://example.com/offer?x=1">Offer</a></body></html>';
    const campaign = await liveCampaign(heraldAs(herald, BOOT), { content: { subject: 'Hello', html }, tracking: { opens: true, clicks: true } });
    const endpoint = await createEndpoint('/engagement', { events: ['opened', 'clicked'], campaignIds: [campaign.id] });
    const run = await trigger(campaign.id, ['e@example.com']);
    const urls = trackingUrls(herald.config.publicUrl, new TrackingTokens([TRACKING_SECRET]), run.executionId, 0);
    expect((await fetch(urls.open())).status).toBe(200);
    const click = await fetch(urls.click(0), { redirect: 'manual' });
    expect(click.status).toBe(302);
    await until('the open and the click', () => (at('/engagement').flatMap((r) => messagesOf(r.body)).length >= 2 ? true : undefined));
    const messages = at('/engagement').flatMap((r) => messagesOf(r.body));
    for (const request of at('/engagement')) expect(() => verify(endpoint.secret, request)).not.toThrow();
    expect(messages.map((m) => m.type).sort()).toEqual(['message.clicked', 'message.opened']);
    expect(messages.find((m) => m.type === 'message.clicked')!.data).toMatchObject({
      executionId: run.executionId,
      campaignId: campaign.id,
      userId: 'e@example.com',
      url: 'https://example.com/offer?x=1',
    });
  });

  it('retention purges the events every enabled endpoint has read, and keeps the rest', async () => {
    const endpoints = await herald.db.selectFrom('webhook_endpoints').select(['cursor_event_id', 'status']).execute();
    const slowest = Math.min(...endpoints.filter((e) => e.status === 'enabled').map((e) => Number(e.cursor_event_id)));
    const before = await herald.db.selectFrom('feedback_events').select('id').execute();
    expect(before.some((e) => Number(e.id) <= slowest)).toBe(true);
    await new FeedbackEventRepository(herald.db).purgeBefore(new Date(Date.now() + 60_000).toISOString());
    const after = (await herald.db.selectFrom('feedback_events').select('id').execute()).map((e) => Number(e.id));
    expect(after).toEqual(before.map((e) => Number(e.id)).filter((id) => id > slowest));
    expect(await herald.db.selectFrom('webhook_attempts').selectAll().execute()).toHaveLength(0);
  });

  it('is for full keys only: a trigger key gets 403', async () => {
    const triggerKey = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    expect((await triggerKey('GET', '/v1/webhooks')).status).toBe(403);
    expect((await triggerKey('POST', '/v1/webhooks', { url: `${customer.url}/x`, events: ['sent'] })).status).toBe(403);
  });
});

describe('feedback messages', () => {
  const facts = {
    id: 7,
    occurredAt: '2026-01-01T00:00:00.000Z',
    executionId: 'ex',
    position: 2,
    requestId: 'r',
    campaignId: 'c',
    campaignVersion: 3,
    userId: 'u',
    channel: 'email',
  };
  it('carry a failure for bounces and complaints, which come with the raw reason only', () => {
    expect(feedbackMessage({ ...facts, type: 'bounced', detail: { reason: '550 mailbox unknown', bounceType: 'hard' } }, 2)).toEqual({
      type: 'message.bounced',
      timestamp: facts.occurredAt,
      data: {
        id: 'evt_7',
        event: 'bounced',
        requestId: 'r',
        executionId: 'ex',
        campaignId: 'c',
        campaignVersion: 3,
        userId: 'u',
        channel: 'email',
        position: 2,
        attempt: 2,
        bounceType: 'hard',
        failure: { category: 'provider', code: 'hard-bounce', reason: '550 mailbox unknown' },
      },
    });
    expect(feedbackMessage({ ...facts, type: 'complained' }, 1).data.failure).toEqual({ category: 'provider', code: 'complaint', reason: null });
    expect(feedbackMessage({ ...facts, type: 'delivered' }, 1).data.failure).toBeUndefined();
    const batch = feedbackRequestBody(
      [
        { ...facts, type: 'sent' },
        { ...facts, id: 8, type: 'opened' },
      ],
      1,
      new Date(),
    );
    expect(batch.type).toBe('message.batch');
    expect((batch.data.events as { data: { id: string } }[]).map((m) => m.data.id)).toEqual(['evt_7', 'evt_8']);
  });
});

describe('feedback webhook targets', () => {
  it('refuses private, loopback, link-local and reserved targets, as written and after DNS resolution, unless allowed', async () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://10.1.2.3/x',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://[fc00::1]/',
      'http://[fe80::1]/',
      'http://0.0.0.0/',
      'http://localhost/',
      'http://[::ffff:127.0.0.1]/',
      'http://100.64.0.1/',
    ]) {
      expect(webhookUrlProblem(url, false), url).toBeDefined();
      expect(webhookUrlProblem(url, true), url).toBeUndefined();
    }
    expect(webhookUrlProblem('https://hooks.example.com/herald', false)).toBeUndefined();
    expect(webhookUrlProblem('ftp://hooks.example.com/', true)).toBeDefined();
    expect(webhookUrlProblem('https://user:pw@hooks.example.com/', true)).toBeDefined();
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('2606:4700::1')).toBe(true);

    // At delivery: a name that resolves to a non-public address is refused before any connection.
    const customer = await startCustomer();
    try {
      const port = new URL(customer.url).port;
      const request = { secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64'), messageId: 'msg_1', body: '{}', timeoutMs: 2000 };
      const name = hostname();
      const addresses = await lookup(name, { all: true }).catch(() => []);
      if (addresses.length > 0 && addresses.some((a) => !isPublicAddress(a.address))) {
        const refused = await postWebhook({ ...request, url: `http://${name}:${port}/resolved`, allowPrivate: false });
        expect(refused).toMatchObject({ ok: false, statusCode: null });
        expect(refused.error).toContain('resolves to');
      }
      const literal = await postWebhook({ ...request, url: `http://127.0.0.1:${port}/literal`, allowPrivate: false });
      expect(literal).toMatchObject({ ok: false, statusCode: null });
      expect(customer.received).toHaveLength(0);
      // Allowed (tests, closed networks), the same request arrives.
      expect(await postWebhook({ ...request, url: `http://127.0.0.1:${port}/literal`, allowPrivate: true })).toMatchObject({ ok: true, statusCode: 200 });
      expect(customer.received).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => customer.server.close(() => resolve()));
    }
  });

  it('at delivery, judges a name by every address it resolves to, however the name is spelt', async () => {
    // A resolver that answers for `localhost.` as many do (this machine's may not).
    const resolver = ((name: string, _options: object, callback: (error: Error | null, addresses: { address: string; family: number }[]) => void) => {
      const answers: Record<string, { address: string; family: number }[]> = {
        'localhost.': [{ address: '127.0.0.1', family: 4 }],
        'mixed.example.': [
          { address: '93.184.216.34', family: 4 },
          { address: '::ffff:7f00:1', family: 6 },
        ],
        'nat64.example.': [{ address: '64:ff9b::a9fe:a9fe', family: 6 }],
        'compatible.example.': [{ address: '::7f00:1', family: 6 }],
        'public.example.': [
          { address: '93.184.216.34', family: 4 },
          { address: '2606:4700::1111', family: 6 },
        ],
      };
      callback(null, answers[name] ?? []);
    }) as unknown as typeof import('node:dns').lookup;
    const lookUp = (name: string, allowPrivate = false) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        checkedLookup(allowPrivate, resolver)(name, {}, (error, address) => resolve({ error, address })),
      );

    for (const name of ['localhost.', 'mixed.example.', 'nat64.example.', 'compatible.example.']) {
      const { error } = await lookUp(name);
      expect(error?.code, name).toBe('EREFUSEDTARGET');
      expect(error?.message).toContain('resolves to');
    }
    expect(await lookUp('public.example.')).toEqual({ error: null, address: '93.184.216.34' });
    expect(await lookUp('localhost.', true)).toEqual({ error: null, address: '127.0.0.1' });
    // The real resolver, on a name every machine resolves to loopback.
    expect((await new Promise<NodeJS.ErrnoException | null>((resolve) => checkedLookup(false)('localhost', {}, (error) => resolve(error))))?.code).toBe(
      'EREFUSEDTARGET',
    );

    // And a whole delivery to a trailing-dot name never connects.
    const customer = await startCustomer();
    try {
      const port = new URL(customer.url).port;
      const request = { secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64'), messageId: 'msg_1', body: '{}', timeoutMs: 2000, allowPrivate: false };
      for (const url of [`http://localhost.:${port}/`, `http://LOCALHOST.:${port}/`, `http://[::7f00:1]:${port}/`, `http://[::ffff:0:7f00:1]:${port}/`]) {
        // Refused as a private target, not merely failing to resolve or connect.
        expect(await postWebhook({ ...request, url }), url).toMatchObject({
          ok: false,
          statusCode: null,
          error: expect.stringContaining('HERALD_WEBHOOKS_ALLOW_PRIVATE'),
        });
      }
      expect(customer.received).toHaveLength(0);
    } finally {
      await new Promise<void>((resolve) => customer.server.close(() => resolve()));
    }
  });

  it('over the API: 400 for a private target without HERALD_WEBHOOKS_ALLOW_PRIVATE, 409 without a payload key', async () => {
    const herald = await startHerald({ withoutWorker: true, encryption: false });
    try {
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://169.254.169.254/latest',
        'http://[::1]/x',
        'http://localhost:9/',
        'http://localhost./',
        'http://LOCALHOST./',
        'http://foo.localhost./',
        'http://[::7f00:1]/',
        'http://[::127.0.0.1]/',
        'http://[::ffff:7f00:1]/',
        'http://[0:0:0:0:0:ffff:127.0.0.1]/',
        'http://[::ffff:0:7f00:1]/',
        'http://[64:ff9b::7f00:1]/',
        'http://[2002:a9fe:a9fe::1]/',
        'http://127.1/',
        'http://0x7f.1/',
        'http://2130706433/',
      ]) {
        const res = await herald.request('POST', '/v1/webhooks', { url, events: ['sent'] });
        expect(res.status, url).toBe(400);
        expect(res.headers.get('content-type'), url).toContain('application/problem+json');
        expect(JSON.stringify(res.body)).toContain('HERALD_WEBHOOKS_ALLOW_PRIVATE');
      }
      const noKey = await herald.request('POST', '/v1/webhooks', { url: 'https://hooks.example.com/herald', events: ['sent'] });
      expect(noKey.status).toBe(409);
      expect(noKey.body.detail).toContain('HERALD_PAYLOAD_KEYS');
      expect(await herald.db.selectFrom('webhook_endpoints').selectAll().execute()).toHaveLength(0);
    } finally {
      await herald.stop();
    }
  });
});
