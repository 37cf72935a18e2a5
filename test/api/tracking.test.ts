import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startHerald, type Herald } from '../support/herald-harness';

const SECRET = randomBytes(32).toString('base64url');
const PUBLIC_URL = 'https://track.example.test/herald';

const TRACKED_HTML = [
  '<html><body>',
  '<p>Hi {{ profile.firstName }}, your code is {{ context.code }}</p>',
  '<a href="https://example.com/welcome?a=1&amp;b=2" class="cta">Welcome</a>',
  "<a href='HTTP://Example.com/Path#frag'>Second</a>",
  '<a href="mailto:help@example.com">Mail</a> <a href="tel:+15550100">Call</a> <a href="#top">Top</a> <a href="/relative">Rel</a>',
  '<a href="https://example.com/unsubscribe?u={{ profile.firstName }}">Unsubscribe</a>',
  '</body></html>',
].join('\n');

/**
 * Engagement tracking end to end: a real Herald (API, Temporal worker, database) sends a tracked
 * email to a fake Resend; the pixel and the links it carries are then requested over HTTP.
 */
describe('engagement tracking', () => {
  let fake: FakeResend;
  let herald: Herald;
  const tokens = new TrackingTokens([SECRET]);

  beforeAll(async () => {
    fake = await startFakeResend({ apiKey: 're_track_key' });
    herald = await startHerald({
      env: { RESEND_API_KEY: 're_track_key', RESEND_BASE_URL: fake.url, HERALD_TRACKING_SECRET: SECRET, HERALD_PUBLIC_URL: `${PUBLIC_URL}/` },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });

  const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

  async function send(campaignId: string, userId: string) {
    await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, { attributes: { firstName: 'Ada' } });
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('track'),
      campaignId,
      recipients: [{ userId, namespace: 'email' }],
      context: { code: '4711' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const executionId = res.body.executionId as string;
    const execution = await herald.waitForExecution(executionId);
    expect(execution.recipients[0].status).toBe('sent');
    const delivery = fake.deliveries.find((d) => d.to.includes(userId));
    expect(delivery).toBeDefined();
    return { executionId, delivery: delivery! };
  }

  const hit = (url: string, headers: Record<string, string> = {}) => fetch(`${herald.baseUrl}${url.slice(PUBLIC_URL.length)}`, { redirect: 'manual', headers });
  const eventRows = (executionId: string) => herald.db.selectFrom('delivery_events').selectAll().where('execution_id', '=', executionId).execute();

  it('sends the pixel and rewritten links (others untouched), records opens and clicks over HTTP, and redirects to exactly the original URL', async () => {
    const campaign = await liveCampaign(herald, { content: { subject: 'Hello', html: TRACKED_HTML }, tracking: { opens: true, clicks: true } });
    expect(campaign.tracking).toEqual({ opens: true, clicks: true });
    const ada = address('ada');
    const { executionId, delivery } = await send(campaign.id, ada);

    // Exactly the rendered HTML, with two hrefs rewritten and the pixel before </body>.
    const urls = trackingUrls(PUBLIC_URL, tokens, executionId, 0);
    const rendered = TRACKED_HTML.replace('{{ profile.firstName }}', 'Ada').replace('{{ context.code }}', '4711').replace('{{ profile.firstName }}', 'Ada');
    const expected = rendered
      .replace('href="https://example.com/welcome?a=1&amp;b=2"', `href="${urls.click(0)}"`)
      .replace("href='HTTP://Example.com/Path#frag'", `href="${urls.click(1)}"`)
      .replace('</body>', `<img src="${urls.open()}" width="1" height="1" alt=""></body>`);
    expect(delivery.html).toBe(expected);
    // The plain-text part keeps the original links.
    expect(delivery.text).toContain('https://example.com/welcome?a=1&b=2');
    expect(delivery.text).not.toContain('/t/');

    const pixel = await hit(urls.open(), { 'user-agent': `MailClient/1.0 ${'x'.repeat(400)}` });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(pixel.headers.get('cache-control')).toContain('no-store');
    const gif = Buffer.from(await pixel.arrayBuffer());
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect(gif.readUInt16LE(6)).toBe(1);
    expect(gif.readUInt16LE(8)).toBe(1);

    const first = await hit(urls.click(0));
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('https://example.com/welcome?a=1&b=2');
    const second = await hit(urls.click(1));
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe('HTTP://Example.com/Path#frag');
    expect((await hit(urls.click(0))).headers.get('location')).toBe('https://example.com/welcome?a=1&b=2');

    const status = await herald.request('GET', `/v1/executions/${executionId}`);
    expect(status.body.recipients[0]).toMatchObject({ userId: ada, status: 'sent', opens: 1, clicks: 3 });
    const rows = await eventRows(executionId);
    expect(rows.map((row) => `${row.type}:${row.link_index}`).sort()).toEqual(['clicked:0', 'clicked:0', 'clicked:1', 'opened:null']);
    const opened = rows.find((row) => row.type === 'opened')!;
    expect(opened.user_agent).toHaveLength(256);
    expect(opened.user_agent!.startsWith('MailClient/1.0')).toBe(true);
    // No client address is stored anywhere.
    // The table grew columns for provider events (0017) and reports since: none holds a client address.
    expect(Object.keys(opened).filter((column) => /ip|addr|remote|client/i.test(column))).toEqual([]);
    expect(Object.values(opened)).not.toContain('127.0.0.1');
    expect(opened).toMatchObject({ detail: null, provider_event_id: null });
  });

  it('rejects forged, altered and garbled tokens without recording anything and never redirects', async () => {
    const campaign = await liveCampaign(herald, { content: { subject: 'Hello', html: TRACKED_HTML }, tracking: { clicks: true } });
    const { executionId, delivery } = await send(campaign.id, address('eve'));
    // Clicks only: no pixel.
    expect(delivery.html).not.toContain('/t/o/');
    const genuine = trackingUrls(PUBLIC_URL, tokens, executionId, 0).click(0);
    const token = genuine.split('/t/c/')[1]!;
    const [payload, signature] = token.split('.') as [string, string];
    const foreign = new TrackingTokens([randomBytes(32).toString('base64url')]);
    const forged = [
      // Signed with another key, for a real delivery and link.
      foreign.sign({ kind: 'click', executionId, position: 0, link: 0 }),
      // The signature altered, or moved to another link of the same delivery.
      `${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
      `${Buffer.from(`c:${executionId}:0:1`).toString('base64url')}.${signature}`,
      // An open token used as a click, and garbage.
      tokens.sign({ kind: 'open', executionId, position: 0 }),
      'garbage',
      `${token}x`,
    ];
    for (const candidate of forged) {
      const res = await fetch(`${herald.baseUrl}/t/c/${candidate}`, { redirect: 'manual' });
      expect(res.status, candidate).toBe(404);
      expect(res.headers.get('location'), candidate).toBeNull();
      expect(res.headers.get('content-type'), candidate).toContain('application/problem+json');
    }
    // A genuine signature for a link Herald never stored: the destination only ever comes from the database.
    const unstored = await hit(trackingUrls(PUBLIC_URL, tokens, executionId, 0).click(42));
    expect(unstored.status).toBe(404);
    expect(unstored.headers.get('location')).toBeNull();
    // Forged opens answer 404 too, and a token longer than any Herald signs is refused as such.
    expect((await fetch(`${herald.baseUrl}/t/o/${foreign.sign({ kind: 'open', executionId, position: 0 })}`)).status).toBe(404);
    expect((await fetch(`${herald.baseUrl}/t/o/${'a'.repeat(300)}`)).status).toBe(400);
    expect(await eventRows(executionId)).toEqual([]);
    expect((await herald.request('GET', `/v1/executions/${executionId}`)).body.recipients[0]).toMatchObject({ opens: 0, clicks: 0 });

    expect((await hit(genuine)).headers.get('location')).toBe('https://example.com/welcome?a=1&b=2');
    expect(await eventRows(executionId)).toHaveLength(1);
  });

  it('leaves campaigns without tracking exactly as before', async () => {
    const campaign = await liveCampaign(herald, { content: { subject: 'Hello', html: TRACKED_HTML } });
    expect(campaign.tracking).toBeUndefined();
    const { executionId, delivery } = await send(campaign.id, address('bob'));
    expect(delivery.html).toBe(
      TRACKED_HTML.replace('{{ profile.firstName }}', 'Ada').replace('{{ context.code }}', '4711').replace('{{ profile.firstName }}', 'Ada'),
    );
    const status = await herald.request('GET', `/v1/executions/${executionId}`);
    expect(status.body.recipients[0]).not.toHaveProperty('opens');
    expect(status.body.recipients[0]).not.toHaveProperty('clicks');
    expect(await herald.db.selectFrom('tracked_links').selectAll().where('execution_id', '=', executionId).execute()).toEqual([]);
  });
});

describe('engagement tracking without a key, and its rate limit', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_TRACKING_RATE_LIMIT: '3' } });
  });
  afterAll(() => herald?.stop());

  it('refuses to activate a tracked campaign while HERALD_TRACKING_SECRET is unset', async () => {
    const created = await herald.request('POST', '/v1/campaigns', emailCampaign({ tracking: { opens: true } }));
    expect(created.status).toBe(201);
    const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status).toBe(422);
    expect(activated.body.errors).toEqual([
      expect.objectContaining({ field: 'tracking', message: expect.stringContaining('HERALD_TRACKING_SECRET is not set') }),
    ]);
    // Tracking off: the same campaign activates.
    expect((await herald.request('PATCH', `/v1/campaigns/${created.body.id}`, { tracking: null })).status).toBe(200);
    expect((await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`)).status).toBe(200);
  });

  it('declares both endpoints in the OpenAPI document as public (an empty security list)', async () => {
    const { body } = await herald.request('GET', '/openapi.json');
    for (const path of ['/t/o/{token}', '/t/c/{token}']) {
      expect(body.paths[path]?.get?.security, path).toEqual([]);
    }
    expect(Object.keys(body.paths['/t/c/{token}'].get.responses)).toEqual(expect.arrayContaining(['302', '404', '429']));
  });

  it('limits the public endpoints per client address, with Retry-After, across both of them', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${herald.baseUrl}/t/${i % 2 === 0 ? 'o' : 'c'}/forged${i}`, { redirect: 'manual' });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    expect(statuses.slice(3)).toEqual([429, 429, 429, 429, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.headers.get('content-type')).toContain('application/problem+json');
    // The API's own routes are limited apart.
    expect((await herald.request('GET', '/health/live')).status).toBe(200);
  });
});
