import { randomBytes, randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { unsubscribeHeadersFor } from '../../activities/unsubscribe-headers';
import { TrackingTokens } from '../../src/domain/tracking';
import { withUnsubscribeHeaders } from '../../src/domain/unsubscribe';
import { CampaignRepository } from '../../src/repositories/campaigns';
import { ExecutionRepository } from '../../src/repositories/executions';
import { ENDPOINT_CHECK_TTL_MS } from '../../src/repositories/feedback-events';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../support/codec-ui';
import { startFakeResend, type FakeResend, type FakeResendDelivery } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';
import { listenOnLoopback, readBody } from '../support/loopback-server';

const SECRET = randomBytes(32).toString('base64url');
/** Behind a proxy with a path prefix, as in production: links and Twilio's signed URL use it, the test reaches the API directly. */
const PUBLIC_URL = 'https://mail.example.test/herald';
const TWILIO_AUTH_TOKEN = 'twilio-test-auth-token-0123456789abcdef';
const INBOUND_URL = `${PUBLIC_URL}/webhooks/twilio/inbound`;
const SCREENSHOT = '/tmp/unsubscribe-page.png';

const marketing = (overrides: Record<string, unknown> = {}) => ({
  name: 'Newsletter',
  type: 'marketing',
  content: { subject: 'News for {{ profile.firstName }}', html: '<p>Hi {{ profile.firstName }}, here is our news.</p>', text: 'Hi {{ profile.firstName }}' },
  ...overrides,
});

let numberCounter = 0;
/** A fresh valid US number per use (415-555-2xxx passes libphonenumber's plan). */
const nextNumber = () => `+1415555${String(2000 + (++numberCounter % 1000)).padStart(4, '0')}`;

/**
 * One-click unsubscribe (RFC 8058) and Twilio's inbound STOP/START, end to end: a real Herald
 * (API, Temporal worker, database of the suite's dialect) sends marketing email to a fake Resend
 * over HTTP; the link in its List-Unsubscribe header is then requested over HTTP, and Twilio's
 * inbound webhook is called with requests signed by the `twilio` SDK's own algorithm.
 */
describe('one-click unsubscribe and inbound SMS keywords', () => {
  let fake: FakeResend;
  let herald: Herald;
  const tokens = new TrackingTokens([SECRET]);

  beforeAll(async () => {
    fake = await startFakeResend({ apiKey: 're_unsub_key' });
    herald = await startHerald({
      env: {
        RESEND_API_KEY: 're_unsub_key',
        RESEND_BASE_URL: fake.url,
        HERALD_TRACKING_SECRET: SECRET,
        HERALD_PUBLIC_URL: `${PUBLIC_URL}/`,
        TWILIO_AUTH_TOKEN,
        HERALD_WEBHOOKS_ALLOW_PRIVATE: 'true',
      },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });

  const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const local = (url: string) => `${herald.baseUrl}${url.slice(PUBLIC_URL.length)}`;

  async function profile(
    userId: string,
    consents: Record<string, string> = { email: 'in', sms: 'in' },
    attributes: Record<string, unknown> = { firstName: 'Ada' },
    namespace = 'email',
  ) {
    const res = await herald.request('PUT', `/v1/profiles/${namespace}/${encodeURIComponent(userId)}`, { attributes, consents });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }
  async function consentsOf(userId: string, namespace = 'email') {
    const res = await herald.request('GET', `/v1/profiles/${namespace}/${encodeURIComponent(userId)}`);
    expect(res.status).toBe(200);
    return res.body.consents as Record<string, string>;
  }
  async function trigger(campaignId: string, userId: string, namespace = 'email') {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('unsub'),
      campaignId,
      recipients: [{ userId, namespace }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const executionId = res.body.executionId as string;
    return { executionId, execution: await herald.waitForExecution(executionId) };
  }
  async function send(campaignId: string, userId: string) {
    const { executionId, execution } = await trigger(campaignId, userId);
    expect(execution.recipients[0]).toMatchObject({ status: 'sent' });
    const delivery = fake.deliveries.find((d) => d.to.includes(userId) && d.body.tags?.some((t: { value: string }) => t.value === executionId));
    expect(delivery).toBeDefined();
    return { executionId, delivery: delivery! };
  }
  /** The URL in a delivery's List-Unsubscribe header (Herald's, the first one). */
  const unsubscribeUrlOf = (delivery: FakeResendDelivery) => /^<([^>]+)>/.exec(delivery.body.headers['List-Unsubscribe'])![1]!;
  const eventRows = (executionId: string) =>
    herald.db.selectFrom('delivery_events').selectAll().where('execution_id', '=', executionId).where('type', '=', 'unsubscribed').execute();
  const auditOf = async (resourceId: string) =>
    (await herald.request('GET', `/v1/audit-log?resourceType=profile&resourceId=${encodeURIComponent(resourceId)}`)).body.items as {
      actorKeyId: string;
      action: string;
      after?: any;
    }[];
  const oneClick = (
    url: string,
    init: RequestInit = { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' },
  ) => fetch(local(url), { method: 'POST', ...init });

  let marketingId: string;
  // biome-ignore lint/suspicious/noDuplicateTestHooks: runs after the stack's hook above, next to the helpers it needs
  beforeAll(async () => {
    marketingId = (await liveCampaign(herald, marketing())).id;
  });

  it('marketing email carries List-Unsubscribe (a signed URL under HERALD_PUBLIC_URL) and List-Unsubscribe-Post; transactional email does not', async () => {
    const ada = address('ada');
    await profile(ada);
    const { executionId, delivery } = await send(marketingId, ada);
    const url = unsubscribeUrlOf(delivery);
    expect(delivery.body.headers).toEqual({ 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(url.startsWith(`${PUBLIC_URL}/u/`)).toBe(true);
    const token = url.slice(`${PUBLIC_URL}/u/`.length);
    expect(tokens.verify(token)).toEqual({ kind: 'unsubscribe', executionId, position: 0 });
    // The token names the delivery, never the address.
    expect(url).not.toContain(ada.split('@')[0]);
    expect(Buffer.from(token.split('.')[0]!, 'base64url').toString()).toBe(`u:${executionId}:0`);

    const transactional = await liveCampaign(herald, { content: { subject: 'Your code', html: '<p>Code {{ context.code }}</p>' } });
    const bob = address('bob');
    await profile(bob);
    const { delivery: receipt } = await send(transactional.id, bob);
    expect(receipt.body.headers).toBeUndefined();
  });

  it('POST /u/{token} sets the consent to out at once, records one event and one audit entry; a repeat changes nothing; the next marketing send is excluded no-consent', async () => {
    const cy = address('cy');
    await profile(cy);
    const { executionId, delivery } = await send(marketingId, cy);
    const url = unsubscribeUrlOf(delivery);

    const res = await oneClick(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('You are unsubscribed');
    // Email consent out; the rest of the profile untouched.
    expect(await consentsOf(cy)).toEqual({ email: 'out', sms: 'in' });
    expect((await herald.request('GET', `/v1/profiles/email/${encodeURIComponent(cy)}`)).body.attributes).toEqual({ firstName: 'Ada' });
    expect(await eventRows(executionId)).toHaveLength(1);
    const audit = await auditOf(`email/${cy}`);
    expect(audit[0]).toMatchObject({ actorKeyId: 'public:unsubscribe', action: 'profile.updated', after: { consents: { email: 'out' } } });

    // RFC 8058 clients POST the form; anything else (no body, another type) is accepted the same, once.
    const again = await oneClick(url, {});
    expect(again.status).toBe(200);
    expect(await oneClick(url, { headers: { 'content-type': 'text/plain' }, body: 'whatever' }).then((r) => r.status)).toBe(200);
    expect(await oneClick(url, { headers: { 'content-type': 'multipart/form-data' }, body: 'no boundary' }).then((r) => r.status)).toBe(200);
    expect(await eventRows(executionId)).toHaveLength(1);
    expect(await auditOf(`email/${cy}`)).toHaveLength(audit.length);

    const sentBefore = fake.deliveries.length;
    const { execution } = await trigger(marketingId, cy);
    expect(execution.recipients[0]).toMatchObject({ status: 'excluded', reason: 'no-consent' });
    expect(fake.deliveries).toHaveLength(sentBefore);
  });

  it('GET /u/{token} shows a self-contained confirmation page and changes nothing (nor does HEAD)', async () => {
    const dee = address('dee');
    await profile(dee);
    const { executionId, delivery } = await send(marketingId, dee);
    const url = unsubscribeUrlOf(delivery);

    for (const method of ['GET', 'HEAD', 'GET']) {
      const res = await fetch(local(url), { method });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      if (method === 'GET') {
        const html = await res.text();
        expect(html).toContain('<form method="post">');
        expect(html).toContain('<button type="submit">Unsubscribe</button>');
        // Nothing to run and nothing fetched from elsewhere; nothing about the recipient.
        expect(html).not.toMatch(/<script|src=|href=|https?:\/\//i);
        expect(html).not.toContain(dee.split('@')[0]);
      }
    }
    expect(await consentsOf(dee)).toEqual({ email: 'in', sms: 'in' });
    expect(await eventRows(executionId)).toHaveLength(0);
  });

  it('a forged, altered, foreign-kind or unknown token answers 404 and changes nothing', async () => {
    const eve = address('eve');
    await profile(eve);
    const { executionId, delivery } = await send(marketingId, eve);
    const genuine = unsubscribeUrlOf(delivery).slice(`${PUBLIC_URL}/u/`.length);
    const signature = genuine.split('.')[1]!;
    const refused = [
      new TrackingTokens([randomBytes(32).toString('base64url')]).sign({ kind: 'unsubscribe', executionId, position: 0 }),
      `${genuine.split('.')[0]}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`,
      `${Buffer.from(`u:${executionId}:1`).toString('base64url')}.${signature}`,
      // Tokens Herald did sign, for something else: an open pixel of this delivery, a delivery that does not exist.
      tokens.sign({ kind: 'open', executionId, position: 0 }),
      tokens.sign({ kind: 'unsubscribe', executionId, position: 7 }),
      tokens.sign({ kind: 'unsubscribe', executionId: 'NOSUCHEXECUTION', position: 0 }),
      'not-a-token',
    ];
    for (const token of refused) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(`${herald.baseUrl}/u/${token}`, {
          method,
          ...(method === 'POST' && { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' }),
        });
        expect(res.status, `${method} ${token}`).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
    expect((await fetch(`${herald.baseUrl}/u/${'a'.repeat(300)}`, { method: 'POST' })).status).toBe(400);
    expect(await consentsOf(eve)).toEqual({ email: 'in', sms: 'in' });
    expect(await eventRows(executionId)).toHaveLength(0);
  });

  it('each email of an audience run (sent in one batch) carries its own link, and each link unsubscribes its own recipient', async () => {
    const segment = `batch-${randomUUID().slice(0, 6)}`;
    const members = [address('m0'), address('m1'), address('m2')];
    for (const userId of members) await profile(userId, { email: 'in' }, { firstName: 'Mo', segment });
    const audience = await herald.request('POST', '/v1/audiences', {
      name: segment,
      namespace: 'email',
      definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] },
    });
    expect(audience.status, JSON.stringify(audience.body)).toBe(201);
    const run = await herald.request('POST', '/v1/executions/audience', {
      requestId: uniqueRequestId('unsub-aud'),
      campaignId: marketingId,
      audience: { id: audience.body.id },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const executionId = run.body.executionId as string;
    expect(await herald.waitForExecution(executionId, 60_000)).toMatchObject({ status: 'completed', counts: { sent: 3 } });

    const sent = members.map((userId) => fake.deliveries.find((d) => d.to.includes(userId))!);
    expect(sent.every((d) => d.batchIndex !== undefined)).toBe(true);
    const targets = sent.map((d) => tokens.verify(unsubscribeUrlOf(d).slice(`${PUBLIC_URL}/u/`.length)));
    expect(targets.every((t) => t?.kind === 'unsubscribe' && t.executionId === executionId)).toBe(true);
    expect(new Set(targets.map((t) => t!.position)).size).toBe(3);
    expect(sent.every((d) => d.body.headers['List-Unsubscribe-Post'] === 'List-Unsubscribe=One-Click')).toBe(true);

    expect((await oneClick(unsubscribeUrlOf(sent[1]!))).status).toBe(200);
    expect(await Promise.all(members.map(async (userId) => (await consentsOf(userId)).email))).toEqual(['in', 'out', 'in']);
  });

  it("keeps a channel configuration's own List-Unsubscribe (a mailto) after Herald's URL, and its other headers", async () => {
    const configuration = await herald.request('POST', '/v1/channel-configurations', {
      name: `Newsletter sender ${randomUUID().slice(0, 6)}`,
      channel: 'email',
      provider: 'resend',
      settings: {
        from: 'News <news@example.com>',
        headers: { 'X-Entity-Ref-ID': 'news-1', 'list-unsubscribe': '<mailto:unsubscribe@example.com>', 'List-Unsubscribe-Post': 'bogus' },
      },
    });
    expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
    const campaign = await liveCampaign(herald, marketing({ channelConfigurationId: configuration.body.id }));
    const fay = address('fay');
    await profile(fay);
    const { delivery } = await send(campaign.id, fay);
    const url = unsubscribeUrlOf(delivery);
    expect(delivery.body.headers).toEqual({
      'X-Entity-Ref-ID': 'news-1',
      'List-Unsubscribe': `<${url}>, <mailto:unsubscribe@example.com>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(withUnsubscribeHeaders(undefined, { 'List-Unsubscribe': '<u>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' })).toEqual({
      'List-Unsubscribe': '<u>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('a worker without HERALD_TRACKING_SECRET sends marketing email without the headers and warns once per execution', async () => {
    const gil = address('gil');
    await profile(gil);
    const { executionId } = await send(marketingId, gil);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const repositories = [new ExecutionRepository(herald.db), new CampaignRepository(herald.db)] as const;
      const withoutSecret = unsubscribeHeadersFor({
        executions: repositories[0],
        campaigns: repositories[1],
        settings: { publicUrl: PUBLIC_URL, tracking: { secrets: [], perSecond: 100 } },
      });
      expect(await withoutSecret(executionId, 0, { 'X-Other': '1' })).toEqual({ 'X-Other': '1' });
      expect(await withoutSecret(executionId, 0, undefined)).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain('HERALD_TRACKING_SECRET');
      const withSecret = unsubscribeHeadersFor({
        executions: repositories[0],
        campaigns: repositories[1],
        settings: { publicUrl: PUBLIC_URL, tracking: { secrets: [SECRET], perSecond: 100 } },
      });
      expect(await withSecret(executionId, 0, undefined)).toMatchObject({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    } finally {
      warn.mockRestore();
    }
  });

  it("an unsubscribe becomes an `unsubscribed` feedback event for the customer's webhooks", async () => {
    const received: any[] = [];
    const { server, url } = await listenOnLoopback(
      async (req, res) => {
        received.push(JSON.parse(await readBody(req)));
        res.writeHead(204).end();
      },
      () => ({}),
    );
    const endpoint = await herald.request('POST', '/v1/webhooks', { url: `${url}/hook`, events: ['unsubscribed'] });
    try {
      expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
      // Appends look for an enabled endpoint at most every ENDPOINT_CHECK_TTL_MS.
      await new Promise((resolve) => setTimeout(resolve, ENDPOINT_CHECK_TTL_MS + 200));
      const ivy = address('ivy');
      await profile(ivy);
      const { executionId, delivery } = await send(marketingId, ivy);
      expect((await oneClick(unsubscribeUrlOf(delivery))).status).toBe(200);
      expect((await oneClick(unsubscribeUrlOf(delivery))).status).toBe(200);
      const rows = await herald.db
        .selectFrom('feedback_events')
        .selectAll()
        .where('execution_id', '=', executionId)
        .where('type', '=', 'unsubscribed')
        .execute();
      expect(rows).toEqual([expect.objectContaining({ type: 'unsubscribed', position: 0 })]);
    } finally {
      if (endpoint.status === 201) await herald.request('DELETE', `/v1/webhooks/${endpoint.body.id}`);
      server.close();
    }
  });

  it('is in the OpenAPI document as public operations', async () => {
    const doc = (await herald.request('GET', '/openapi.json')).body;
    expect(doc.paths['/u/{token}'].get.security).toEqual([]);
    expect(doc.paths['/u/{token}'].post.security).toEqual([]);
    expect(doc.paths['/webhooks/twilio/inbound'].post.security).toEqual([]);
  });

  describe('Twilio inbound SMS', () => {
    /** A request as Twilio makes it: form-encoded, signed over HERALD_PUBLIC_URL's address with the auth token. */
    async function inbound(params: Record<string, string>, signWith: { token?: string; params?: Record<string, string>; url?: string } | 'unsigned' = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (signWith !== 'unsigned')
        headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(
          signWith.token ?? TWILIO_AUTH_TOKEN,
          signWith.url ?? INBOUND_URL,
          signWith.params ?? params,
        );
      return fetch(`${herald.baseUrl}/webhooks/twilio/inbound`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    }
    const message = (from: string, body: string) => ({
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: `AC${randomBytes(16).toString('hex')}`,
      From: from,
      To: '+14155550100',
      Body: body,
      NumMedia: '0',
    });

    it('STOP sets the SMS consent of every profile of the number to out, START sets it back; each change is audited', async () => {
      const number = nextNumber();
      const formatted = nextNumber();
      const emailUser = address('sms');
      const crmUser = `crm-${randomUUID().slice(0, 8)}`;
      await profile(number, { sms: 'in' }, {}, 'phone');
      await profile(emailUser, { sms: 'in', email: 'in' }, { phone: number });
      // A number written another way is found through the SMS Herald sent to it.
      await profile(
        crmUser,
        { sms: 'in' },
        { phone: `${formatted.slice(0, 2)} (${formatted.slice(2, 5)}) ${formatted.slice(5, 8)}-${formatted.slice(8)}` },
        'crm',
      );
      const smsCampaign = await liveCampaign(herald, {
        name: 'SMS news',
        type: 'marketing',
        channel: 'sms',
        content: { body: 'News!' },
        audience: { namespace: 'crm', createMissingProfiles: false },
      });
      const { execution } = await trigger(smsCampaign.id, crmUser, 'crm');
      expect(execution.recipients[0]).toMatchObject({ status: 'sent' });

      const stop = await inbound(message(number, '  stop '));
      expect(stop.status).toBe(200);
      expect(stop.headers.get('content-type')).toContain('text/xml');
      expect(await stop.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      expect(await consentsOf(number, 'phone')).toEqual({ sms: 'out' });
      expect(await consentsOf(emailUser)).toEqual({ sms: 'out', email: 'in' });
      expect(await consentsOf(crmUser, 'crm')).toEqual({ sms: 'in' });
      expect((await auditOf(`phone/${number}`))[0]).toMatchObject({
        actorKeyId: 'public:twilio-inbound',
        action: 'profile.updated',
        after: { consents: { sms: 'out' } },
      });

      // The next marketing SMS to that number is excluded.
      const smsToPhone = await liveCampaign(herald, {
        name: 'SMS news 2',
        type: 'marketing',
        channel: 'sms',
        content: { body: 'More news' },
        audience: { namespace: 'phone', createMissingProfiles: false },
      });
      expect((await trigger(smsToPhone.id, number, 'phone')).execution.recipients[0]).toMatchObject({ status: 'excluded', reason: 'no-consent' });

      expect((await inbound(message(formatted, 'UNSUBSCRIBE'))).status).toBe(200);
      expect(await consentsOf(crmUser, 'crm')).toEqual({ sms: 'out' });

      const auditEntries = (await auditOf(`phone/${number}`)).length;
      expect((await inbound(message(number, 'Stop'))).status).toBe(200);
      expect(await auditOf(`phone/${number}`)).toHaveLength(auditEntries);

      expect((await inbound(message(number, 'START'))).status).toBe(200);
      expect(await consentsOf(number, 'phone')).toEqual({ sms: 'in' });
      expect(await consentsOf(emailUser)).toEqual({ sms: 'in', email: 'in' });
      expect((await inbound(message(formatted, 'unstop'))).status).toBe(200);
      expect(await consentsOf(crmUser, 'crm')).toEqual({ sms: 'in' });

      // An ordinary message changes nothing.
      expect((await inbound(message(number, 'Please stop sending me the weekend offers'))).status).toBe(200);
      expect(await consentsOf(number, 'phone')).toEqual({ sms: 'in' });
    });

    it('a forged or unsigned request answers 401 and changes nothing', async () => {
      const number = nextNumber();
      await profile(number, { sms: 'in' }, {}, 'phone');
      const stop = message(number, 'STOP');
      const forgeries = [
        await inbound(stop, 'unsigned'),
        await inbound(stop, { token: 'not-the-auth-token-0123456789abcdef' }),
        await inbound(stop, { params: { ...stop, Body: 'Hello' } }),
        await inbound(stop, { url: `${herald.baseUrl}/webhooks/twilio/inbound` }),
      ];
      for (const res of forgeries) {
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
      const json = await fetch(`${herald.baseUrl}/webhooks/twilio/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-signature': 'AAAA' },
        body: JSON.stringify(stop),
      });
      expect(json.status).toBe(401);
      // A body that does not even parse (multipart without a boundary) is no signed request either.
      const malformed = await fetch(`${herald.baseUrl}/webhooks/twilio/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data', 'x-twilio-signature': 'AAAA' },
        body: new URLSearchParams(stop).toString(),
      });
      expect(malformed.status).toBe(401);
      expect(await consentsOf(number, 'phone')).toEqual({ sms: 'in' });
    });
  });

  it.skipIf(!chromiumAvailable())(
    `in Chromium: the page asks, the button unsubscribes, the answer says so (screenshot ${SCREENSHOT})`,
    async () => {
      const hal = address('hal');
      await profile(hal);
      const { executionId, delivery } = await send(marketingId, hal);
      const url = local(unsubscribeUrlOf(delivery));
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
        const requests: string[] = [];
        page.on('request', (request) => {
          if (!request.url().endsWith('/favicon.ico')) requests.push(`${request.method()} ${request.url()}`);
        });
        const violations: string[] = [];
        page.on('console', (msg) => {
          if (msg.type() === 'error') violations.push(msg.text());
        });
        await page.goto(url);
        expect(await page.locator('h1').innerText()).toBe('Unsubscribe');
        await page.screenshot({ path: SCREENSHOT.replace('.png', '-confirm.png') });
        expect(await consentsOf(hal)).toEqual({ email: 'in', sms: 'in' });

        await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Unsubscribe' }).click()]);
        expect(await page.locator('h1').innerText()).toBe('You are unsubscribed');
        await page.screenshot({ path: SCREENSHOT });
        expect(await consentsOf(hal)).toEqual({ email: 'out', sms: 'in' });
        expect(await eventRows(executionId)).toHaveLength(1);
        // The page loaded nothing but itself, and the form posted back to the same address.
        expect(requests).toEqual([`GET ${url}`, `POST ${url}`]);
        expect(violations).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});

describe('the public unsubscribe and inbound endpoints are rate-limited per client address', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({
      withoutWorker: true,
      env: { HERALD_TRACKING_SECRET: SECRET, TWILIO_AUTH_TOKEN, HERALD_TRACKING_RATE_LIMIT: '3', HERALD_PROVIDER_EVENTS_RATE_LIMIT: '3' },
    });
  });
  afterAll(() => herald?.stop());

  it("/u/* shares the tracking endpoints' budget; /webhooks/twilio/inbound the provider events'", async () => {
    const statuses = async (path: string, method: string) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await fetch(`${herald.baseUrl}${path.replace('#', String(i))}`, { method })).status);
      return out;
    };
    expect(await statuses('/t/o/forged#', 'GET')).toEqual([404, 404, 404, 429, 429]);
    const limited = await fetch(`${herald.baseUrl}/u/forged`, { method: 'POST' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await statuses('/webhooks/twilio/inbound', 'POST')).toEqual([401, 401, 401, 429, 429]);
  });
});
