import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TrackingTokens, trackingUrls } from '../../src/domain/tracking';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';

const SECRET = randomBytes(32).toString('base64url');
const PUBLIC_URL = 'https://track.example.test/herald';
const FROM = '+14155550000';

const ATTACKER = 'https://attacker.example/phish';
/** The userinfo trick: a literal host before `@`, the real host after it. */
const USERINFO = 'https://shop.example.com@attacker.example/phish';

/** A link whose whole URL comes from the context, and one whose host is written in the template. */
const HTML = '<body><a href="{{ context.url }}">Yours</a> <a href="https://shop.example.com/{{ context.path }}">Shop</a></body>';
const SMS_BODY = 'Yours: {{ context.url }} Shop: https://shop.example.com/{{ context.path }}';

/**
 * Issue 18, finding 6: with `<a href="{{ context.url }}">` in a tracked email (or a context URL
 * in a tracked SMS), a trigger caller got a signed /t/c/<token> that answered 302 to any URL it
 * chose. Now only links to hosts written literally in the content, or allowlisted by the campaign,
 * are rewritten (and so redirected); any other link is sent as it is.
 */
describe('click tracking is no open redirect', () => {
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let herald: Herald;
  const tokens = new TrackingTokens([SECRET]);

  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: 're_redirect_key' });
    twilio = await startFakeTwilio();
    herald = await startHerald({
      env: {
        RESEND_API_KEY: 're_redirect_key',
        RESEND_BASE_URL: resend.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: FROM,
        TWILIO_BASE_URL: twilio.url,
        HERALD_TRACKING_SECRET: SECRET,
        HERALD_PUBLIC_URL: `${PUBLIC_URL}/`,
      },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await resend?.close();
    await twilio?.close();
  });
  afterEach(() => twilio.reset());

  const hit = (url: string) => fetch(`${herald.baseUrl}${url.slice(PUBLIC_URL.length)}`, { redirect: 'manual' });

  async function trigger(campaignId: string, recipient: { userId: string; namespace: string }, context: Record<string, unknown>) {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('redirect'),
      campaignId,
      recipients: [recipient],
      context,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const executionId = res.body.executionId as string;
    const execution = await herald.waitForExecution(executionId);
    expect(execution.recipients[0].status).toBe('sent');
    return executionId;
  }

  async function sendEmail(campaignId: string, url: string) {
    const userId = `eve-${randomUUID().slice(0, 8)}@example.com`;
    const executionId = await trigger(campaignId, { userId, namespace: 'email' }, { url, path: 'orders/42' });
    const delivery = resend.deliveries.find((d) => d.to.includes(userId));
    expect(delivery).toBeDefined();
    return { executionId, html: delivery!.html as string };
  }

  it('sends a link from the context untracked and tracks the one whose host the template spells out', async () => {
    const campaign = await liveCampaign(herald, { content: { subject: 'Hi', html: HTML }, tracking: { clicks: true } });
    const { executionId, html } = await sendEmail(campaign.id, ATTACKER);
    const urls = trackingUrls(PUBLIC_URL, tokens, executionId, 0);
    expect(html).toBe(`<body><a href="${ATTACKER}">Yours</a> <a href="${urls.click(0)}">Shop</a></body>`);
    const shop = await hit(urls.click(0));
    expect(shop.status).toBe(302);
    expect(shop.headers.get('location')).toBe('https://shop.example.com/orders/42');
    // Nothing stored for the attacker's link: no signed link can lead there.
    expect((await hit(urls.click(1))).status).toBe(404);
    const stored = await herald.db.selectFrom('tracked_links').select('url').where('execution_id', '=', executionId).execute();
    expect(stored.map((row) => row.url)).toEqual(['https://shop.example.com/orders/42']);
  });

  it('keeps the userinfo trick and look-alike hosts untracked', async () => {
    const campaign = await liveCampaign(herald, { content: { subject: 'Hi', html: HTML }, tracking: { clicks: true } });
    for (const url of [
      USERINFO,
      'https://shop.example.com.attacker.example/',
      'https://shop.example.com:443@attacker.example/',
      'https://shop.example.com\\@attacker.example/',
    ]) {
      const { html } = await sendEmail(campaign.id, url);
      // As rendered (autoescaped: `\` reads `&#92;`), not rewritten.
      expect(html.split('>Yours</a>')[0], url).toMatch(/^<body><a href="https:\/\/shop\.example\.com/);
      expect(html.match(/\/t\/c\//g), url).toHaveLength(1);
    }
    // A host from the context that the content names does get tracked: it is the author's.
    const { executionId, html } = await sendEmail(campaign.id, 'https://SHOP.example.com/account');
    expect(html.match(/\/t\/c\//g)).toHaveLength(2);
    expect((await hit(trackingUrls(PUBLIC_URL, tokens, executionId, 0).click(0))).headers.get('location')).toBe('https://SHOP.example.com/account');
  });

  it('tracks a context link whose host the campaign allowlists, exactly or by wildcard', async () => {
    const campaign = await liveCampaign(herald, {
      content: { subject: 'Hi', html: HTML },
      tracking: { clicks: true, allowedLinkHosts: ['Attacker.Example', '*.partner.example'] },
    });
    expect(campaign.tracking).toEqual({ clicks: true, allowedLinkHosts: ['Attacker.Example', '*.partner.example'] });
    const { executionId, html } = await sendEmail(campaign.id, ATTACKER);
    const urls = trackingUrls(PUBLIC_URL, tokens, executionId, 0);
    expect(html).toBe(`<body><a href="${urls.click(0)}">Yours</a> <a href="${urls.click(1)}">Shop</a></body>`);
    const redirect = await hit(urls.click(0));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(ATTACKER);
    // The wildcard allows subdomains, not the domain itself; userinfo stays refused.
    expect((await sendEmail(campaign.id, 'https://a.partner.example/x')).html.match(/\/t\/c\//g)).toHaveLength(2);
    expect((await sendEmail(campaign.id, 'https://partner.example/x')).html.match(/\/t\/c\//g)).toHaveLength(1);
    expect((await sendEmail(campaign.id, 'https://shop.example.com@attacker.example/')).html.match(/\/t\/c\//g)).toHaveLength(1);
  });

  it('refuses invalid allowlist entries with problem+json 400', async () => {
    for (const entry of [
      'https://example.com',
      'example.com:8080',
      'example.com/path',
      'user@example.com',
      '*.com',
      '*',
      'exa mple.com',
      '*.*.example.com',
      '',
      'a'.repeat(64) + '.com',
    ]) {
      const res = await herald.request('POST', '/v1/campaigns', {
        name: 'x',
        type: 'transactional',
        channel: 'email',
        content: { subject: 'Hi', html: HTML },
        audience: { namespace: 'email', createMissingProfiles: true },
        tracking: { clicks: true, allowedLinkHosts: [entry] },
      });
      expect(res.status, entry).toBe(400);
      expect(res.headers.get('content-type'), entry).toContain('application/problem+json');
      expect(JSON.stringify(res.body), entry).toContain('allowedLinkHosts');
    }
  });

  it('previews which links are tracked and why the others are not', async () => {
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'Preview',
      type: 'transactional',
      channel: 'email',
      content: {
        subject: 'Hi',
        html: `${HTML.replace('</body>', '')}<a href="{{ context.other }}">Other</a><a href="https://shop.example.com/unsubscribe">U</a></body>`,
      },
      audience: { namespace: 'email', createMissingProfiles: true },
      tracking: { clicks: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await herald.request('POST', `/v1/campaigns/${created.body.id}/preview`, {
      recipient: { userId: 'ada@example.com', namespace: 'email' },
      context: { url: ATTACKER, path: 'orders/42', other: USERINFO },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.tracking).toEqual({
      opens: false,
      clicks: true,
      token: 'preview',
      links: ['https://shop.example.com/orders/42'],
      untrackedLinks: [
        { url: ATTACKER, reason: 'host-not-allowed' },
        { url: USERINFO, reason: 'credentials-in-url' },
        { url: 'https://shop.example.com/unsubscribe', reason: 'unsubscribe-link' },
      ],
    });
    expect(res.body.rendered.html).toContain(`<a href="${ATTACKER}">Yours</a>`);
  });

  it('does the same for the URLs of a tracked SMS, and its preview', async () => {
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'SMS',
      type: 'transactional',
      channel: 'sms',
      content: { body: SMS_BODY },
      audience: { namespace: 'phone', createMissingProfiles: true },
      tracking: { clicks: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`)).status).toBe(200);
    const to = '+14155553999';
    const context = { url: ATTACKER, path: 'orders/42' };
    const executionId = await trigger(created.body.id, { userId: to, namespace: 'phone' }, context);
    const urls = trackingUrls(PUBLIC_URL, tokens, executionId, 0);
    const body = twilio.requestsTo(to)[0]!.form.Body!;
    expect(body).toBe(`Yours: ${ATTACKER} Shop: ${urls.click(0)}`);
    expect((await hit(urls.click(0))).headers.get('location')).toBe('https://shop.example.com/orders/42');
    expect((await hit(urls.click(1))).status).toBe(404);

    const preview = await herald.request('POST', `/v1/campaigns/${created.body.id}/preview`, { recipient: { userId: to, namespace: 'phone' }, context });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.tracking).toEqual({
      opens: false,
      clicks: true,
      token: 'preview',
      links: ['https://shop.example.com/orders/42'],
      untrackedLinks: [{ url: ATTACKER, reason: 'host-not-allowed' }],
    });
  });
});
