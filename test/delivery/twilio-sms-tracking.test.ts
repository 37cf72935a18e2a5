import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * SMS click tracking end to end: a real Herald (API, Temporal worker, SQLite or PostgreSQL) sends
 * a tracked SMS to a fake Twilio on loopback; the links it carries are then requested over HTTP.
 */

const FROM = '+14155550000';
const SECRET = randomBytes(32).toString('base64url');
const PUBLIC_URL = 'https://track.example.test/herald';

const BODY =
  'Hi {{ profile.firstName }}: see https://example.com/o/{{ context.code }}?a=1&b=2, or (HTTPS://Example.com/Path#frag). Help: www.example.org, help@example.com. Opt out: https://example.com/opt-out';
const renderedBody = (code: string) => BODY.replace('{{ profile.firstName }}', 'Ada').replace('{{ context.code }}', code);

const smsCampaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'Tracked SMS',
  type: 'transactional',
  channel: 'sms',
  content: { body: BODY },
  audience: { namespace: 'phone', createMissingProfiles: true },
  ...overrides,
});

let numberCounter = 0;
const nextNumber = () => `+1415555${String(3000 + (++numberCounter % 1000)).padStart(4, '0')}`;

describe('SMS click tracking', () => {
  let fake: FakeTwilio;
  let herald: Herald;
  const tokens = new TrackingTokens([SECRET]);

  beforeAll(async () => {
    fake = await startFakeTwilio();
    herald = await startHerald({
      env: {
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: FROM,
        TWILIO_BASE_URL: fake.url,
        HERALD_TRACKING_SECRET: SECRET,
        HERALD_PUBLIC_URL: `${PUBLIC_URL}/`,
      },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  async function liveSmsCampaign(overrides: Record<string, unknown> = {}): Promise<string> {
    const created = await herald.request('POST', '/v1/campaigns', smsCampaign(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    return created.body.id as string;
  }

  async function send(campaignId: string) {
    const to = nextNumber();
    await herald.request('PUT', `/v1/profiles/phone/${encodeURIComponent(to)}`, { attributes: { firstName: 'Ada' } });
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('sms-track'),
      campaignId,
      recipients: [{ userId: to, namespace: 'phone' }],
      context: { code: '4711' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const executionId = res.body.executionId as string;
    const execution = await herald.waitForExecution(executionId);
    expect(execution.recipients[0].status).toBe('sent');
    const requests = fake.requestsTo(to);
    expect(requests).toHaveLength(1);
    return { executionId, body: requests[0]!.form.Body! };
  }

  const hit = (url: string) => fetch(`${herald.baseUrl}${url.slice(PUBLIC_URL.length)}`, { redirect: 'manual' });

  it('rewrites the http(s) URLs of the body (the rest intact), redirects to exactly the original URL and records the click', async () => {
    const campaignId = await liveSmsCampaign({ tracking: { clicks: true } });
    const { executionId, body } = await send(campaignId);

    const urls = trackingUrls(PUBLIC_URL, tokens, executionId, 0);
    expect(body).toBe(
      renderedBody('4711').replace('https://example.com/o/4711?a=1&b=2', urls.click(0)).replace('HTTPS://Example.com/Path#frag', urls.click(1)),
    );

    const first = await hit(urls.click(0));
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('https://example.com/o/4711?a=1&b=2');
    const second = await hit(urls.click(1));
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe('HTTPS://Example.com/Path#frag');
    // A link the body never had: nothing stored for it, nothing to redirect to.
    expect((await hit(urls.click(2))).status).toBe(404);

    const status = await herald.request('GET', `/v1/executions/${executionId}`);
    expect(status.body.recipients[0]).toMatchObject({ status: 'sent', clicks: 2 });
    const rows = await herald.db.selectFrom('delivery_events').selectAll().where('execution_id', '=', executionId).execute();
    expect(rows.map((row) => `${row.position}:${row.type}:${row.link_index}`).sort()).toEqual(['0:clicked:0', '0:clicked:1']);
  });

  it('leaves an SMS campaign without tracking exactly as before', async () => {
    const campaignId = await liveSmsCampaign();
    const { executionId, body } = await send(campaignId);
    expect(body).toBe(renderedBody('4711'));
    expect(await herald.db.selectFrom('tracked_links').selectAll().where('execution_id', '=', executionId).execute()).toEqual([]);
    expect((await herald.request('GET', `/v1/executions/${executionId}`)).body.recipients[0]).not.toHaveProperty('clicks');
  });

  it('refuses open tracking for SMS at activation, with a clear message', async () => {
    const created = await herald.request('POST', '/v1/campaigns', smsCampaign({ tracking: { opens: true, clicks: true } }));
    expect(created.status).toBe(201);
    const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status).toBe(422);
    expect(activated.body.errors).toEqual([
      expect.objectContaining({ field: 'tracking.opens', message: expect.stringContaining('an SMS has no open tracking') }),
    ]);
    expect((await herald.request('PATCH', `/v1/campaigns/${created.body.id}`, { tracking: { clicks: true } })).status).toBe(200);
    expect((await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`)).status).toBe(200);
  });

  it('previews the body with tracking applied under a placeholder token, its segments counted on the longer body, creating nothing', async () => {
    const created = await herald.request('POST', '/v1/campaigns', smsCampaign({ tracking: { clicks: true } }));
    const to = nextNumber();
    const res = await herald.request('POST', `/v1/campaigns/${created.body.id}/preview`, {
      recipient: { userId: to, namespace: 'phone', attributes: { firstName: 'Ada' } },
      context: { code: '4711' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = renderedBody('4711')
      .replace('https://example.com/o/4711?a=1&b=2', `${PUBLIC_URL}/t/c/preview`)
      .replace('HTTPS://Example.com/Path#frag', `${PUBLIC_URL}/t/c/preview`);
    expect(res.body.rendered.body).toBe(expected);
    expect(res.body.rendered.sms.characters).toBe(expected.length);
    expect(res.body.tracking).toEqual({
      opens: false,
      clicks: true,
      token: 'preview',
      links: ['https://example.com/o/4711?a=1&b=2', 'HTTPS://Example.com/Path#frag'],
      untrackedLinks: [{ url: 'https://example.com/opt-out', reason: 'unsubscribe-link' }],
    });
    expect(await herald.db.selectFrom('tracked_links').selectAll().execute()).not.toContainEqual(expect.objectContaining({ execution_id: 'preview' }));

    const untracked = await herald.request('POST', '/v1/campaigns', smsCampaign());
    const plain = await herald.request('POST', `/v1/campaigns/${untracked.body.id}/preview`, {
      recipient: { userId: to, namespace: 'phone', attributes: { firstName: 'Ada' } },
      context: { code: '4711' },
    });
    expect(plain.body.rendered.body).toBe(renderedBody('4711'));
    expect(plain.body.tracking).toBeNull();
  });

  it('previews a tracked email with the pixel and links under the placeholder token', async () => {
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'Tracked email',
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Hi', html: '<body><a href="https://example.com/a">A</a></body>' },
      audience: { namespace: 'email', createMissingProfiles: true },
      tracking: { opens: true, clicks: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await herald.request('POST', `/v1/campaigns/${created.body.id}/preview`, { recipient: { userId: 'ada@example.com', namespace: 'email' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.rendered.html).toBe(
      `<body><a href="${PUBLIC_URL}/t/c/preview">A</a><img src="${PUBLIC_URL}/t/o/preview" width="1" height="1" alt=""></body>`,
    );
    expect(res.body.rendered).not.toHaveProperty('tracked');
    expect(res.body.tracking).toEqual({ opens: true, clicks: true, token: 'preview', links: ['https://example.com/a'], untrackedLinks: [] });
  });
});
