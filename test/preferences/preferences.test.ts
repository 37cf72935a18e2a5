import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriberTokens } from '../../src/domain/subscriber-token';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'preferences-boot-key-0123456789abcdef';
const SECRET = randomBytes(32).toString('base64url');

/**
 * Preferences end to end on a real Herald (API, Temporal worker, the suite's database, the outbox
 * providers) over HTTP: categories, a person's preferences over the API and with a subscriber
 * token, and the hosted page; every send path applies them (a unitary trigger, an audience run,
 * a campaign's send step), excluding with reason `preference`.
 */
describe('preferences', () => {
  let herald: Herald;
  let full: Requester;
  const tag = randomUUID().slice(0, 8);
  const NS = `prefs-${tag}`;
  /** A category key of this run (keys are global). */
  const key = (name: string) => `${name}-${tag}`;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT, HERALD_TRACKING_SECRET: SECRET, HERALD_SMS_PROVIDER: 'outbox' } });
    full = withKey(herald, BOOT);
  });
  afterAll(async () => {
    await herald?.stop();
  });

  async function profile(userId: string, attributes: Record<string, unknown> = {}) {
    const res = await full('PUT', `/v1/profiles/${NS}/${encodeURIComponent(userId)}`, {
      attributes: { email: `${userId}@example.com`, phone: '+14155552671', firstName: userId, ...attributes },
      consents: { email: 'in', sms: 'in', push: 'in' },
    });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }
  const preferencesPath = (userId: string) => `/v1/profiles/${NS}/${encodeURIComponent(userId)}/preferences`;
  async function category(name: string, extra: Record<string, unknown> = {}) {
    const res = await full('POST', '/v1/categories', { key: key(name), name, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.key as string;
  }
  async function liveCampaign(body: Record<string, unknown>): Promise<string> {
    const created = await full('POST', '/v1/campaigns', {
      name: 'Notice',
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Hello {{ profile.firstName }}', html: '<p>Hi</p>' },
      audience: { namespace: NS, createMissingProfiles: false },
      ...body,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const activated = await full('POST', `/v1/campaigns/${created.body.id}/activate`);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    return created.body.id as string;
  }
  async function trigger(campaignId: string, userIds: string[]) {
    const res = await full('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('prefs'),
      campaignId,
      recipients: userIds.map((userId) => ({ userId, namespace: NS })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return settled(res.body.executionId as string);
  }
  /** herald.waitForExecution calls without a key; this Herald wants one. */
  async function settled(executionId: string): Promise<any> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await full('GET', `/v1/executions/${executionId}`);
      if (body?.status && body.status !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} still running: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const outcomes = (execution: { recipients: { userId: string; status: string; reason?: string }[] }) =>
    Object.fromEntries(execution.recipients.map((r) => [r.userId, r.reason ? `${r.status}:${r.reason}` : r.status]));
  const auditOf = async (resourceType: string, resourceId?: string) =>
    (await full('GET', `/v1/audit-log?resourceType=${resourceType}${resourceId ? `&resourceId=${encodeURIComponent(resourceId)}` : ''}`)).body.items as {
      actorKeyId: string;
      action: string;
      resourceId: string;
      before?: any;
      after?: any;
    }[];

  it('categories: created, listed, read, edited and deleted, audited; a key is a slug and taken once', async () => {
    const billing = await category('billing', { description: 'Invoices', defaultChannels: { sms: false } });
    expect((await full('GET', `/v1/categories/${billing}`)).body).toMatchObject({
      key: billing,
      name: 'billing',
      description: 'Invoices',
      critical: false,
      defaultChannels: { sms: false },
    });
    expect((await full('POST', '/v1/categories', { key: billing, name: 'again' })).status).toBe(409);
    const badKey = await full('POST', '/v1/categories', { key: 'Not A Slug', name: 'x' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].field).toBe('key');
    expect((await full('POST', '/v1/categories', { key: key('x'), name: 'x', defaultChannels: { fax: true } })).status).toBe(400);

    const patched = await full('PATCH', `/v1/categories/${billing}`, { name: 'Billing', description: null, critical: true });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ key: billing, name: 'Billing', critical: true });
    expect(patched.body.description).toBeUndefined();
    expect((await full('PATCH', `/v1/categories/${key('nope')}`, { name: 'x' })).status).toBe(404);

    const list = await full('GET', '/v1/categories');
    expect(list.body.items.map((c: { key: string }) => c.key)).toContain(billing);

    const audit = await auditOf('category', billing);
    expect(audit.map((e) => e.action)).toEqual(['category.updated', 'category.created']);
    expect(audit[0]).toMatchObject({ actorKeyId: expect.stringMatching(/^env-/), before: { critical: false }, after: { critical: true } });

    // A campaign carrying it holds it; review refuses a category that does not exist.
    const campaign = await full('POST', '/v1/campaigns', {
      name: 'Invoice',
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Invoice', html: '<p>Due</p>' },
      audience: { namespace: NS, createMissingProfiles: false },
      category: billing,
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    expect(campaign.body.category).toBe(billing);
    const inUse = await full('DELETE', `/v1/categories/${billing}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.type).toBe('category-in-use');
    const unknown = await full('PATCH', `/v1/campaigns/${campaign.body.id}`, { category: key('missing') });
    expect(unknown.status).toBe(200);
    expect(unknown.body.version).toBe(2);
    const review = await full('POST', `/v1/campaigns/${campaign.body.id}/activate`);
    expect(review.status).toBe(422);
    expect(review.body.errors).toContainEqual({ field: 'category', message: expect.stringContaining(key('missing')) });
    // Cleared (null), the category is free to go.
    expect((await full('PATCH', `/v1/campaigns/${campaign.body.id}`, { category: null })).body.category).toBeUndefined();
    expect((await full('DELETE', `/v1/categories/${billing}`)).status).toBe(204);
    expect((await full('GET', `/v1/categories/${billing}`)).status).toBe(404);
    expect((await auditOf('category', billing))[0]).toMatchObject({ action: 'category.deleted', before: { key: billing } });
  });

  it("a person's preferences: PUT and GET, 404 without a profile, 400 naming the path of a critical category turned off", async () => {
    const news = await category('news', { defaultChannels: { sms: false } });
    const security = await category('security', { critical: true });
    await profile('ada');
    expect((await full('GET', preferencesPath('ada'))).body).toEqual({ channels: {}, categories: {} });

    const body = { channels: { email: true, sms: false }, categories: { [news]: { email: false } } };
    const put = await full('PUT', preferencesPath('ada'), body);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual(body);
    expect((await full('GET', preferencesPath('ada'))).body).toEqual(body);

    const critical = await full('PUT', preferencesPath('ada'), { categories: { [security]: { email: false } } });
    expect(critical.status).toBe(400);
    expect(critical.body.errors).toEqual([
      { field: `categories.${security}.email`, message: `${security} is a critical category: its messages cannot be turned off` },
    ]);
    const unknownCategory = await full('PUT', preferencesPath('ada'), { categories: { [key('nope')]: { email: false } } });
    expect(unknownCategory.status).toBe(400);
    expect(unknownCategory.body.errors[0].field).toBe(`categories.${key('nope')}`);
    expect((await full('PUT', preferencesPath('ada'), { channels: { fax: false } })).status).toBe(400);
    expect((await full('PUT', preferencesPath('ada'), {})).status).toBe(400);
    expect((await full('PUT', preferencesPath('ada'))).status).toBe(400);
    // Refusals changed nothing.
    expect((await full('GET', preferencesPath('ada'))).body).toEqual(body);

    expect((await full('GET', preferencesPath('nobody'))).status).toBe(404);
    expect((await full('PUT', preferencesPath('nobody'), body)).status).toBe(404);

    const profileId = (await herald.db.selectFrom('profiles').select('id').where('namespace', '=', NS).where('user_id', '=', 'ada').executeTakeFirstOrThrow())
      .id;
    const audit = await auditOf('profile', profileId);
    expect(audit[0]).toMatchObject({ action: 'profile.preferences-updated', after: body });
  });

  it('subscriber tokens: made by a key, read and write that one person’s preferences; forged, expired or tampered answer 401', async () => {
    await profile('grace');
    const made = await full('POST', '/v1/inbox/tokens', { namespace: NS, userId: 'grace', ttlSeconds: 600 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { token, expiresAt } = made.body as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    const asGrace = withKey(herald, token);

    expect((await asGrace('GET', '/v1/inbox/preferences')).body).toEqual({ channels: {}, categories: {} });
    const put = await asGrace('PUT', '/v1/inbox/preferences', { channels: { push: false } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await full('GET', preferencesPath('grace'))).body).toEqual({ channels: { push: false }, categories: {} });
    expect(put.headers.get('ratelimit-limit')).toBe('10');
    const profileId = (await herald.db.selectFrom('profiles').select('id').where('namespace', '=', NS).where('user_id', '=', 'grace').executeTakeFirstOrThrow())
      .id;
    expect((await auditOf('profile', profileId))[0]).toMatchObject({ action: 'profile.preferences-updated', actorKeyId: 'subscriber:inbox' });

    // The token is for the inbox only, and an API key is no subscriber token.
    expect((await asGrace('GET', '/v1/campaigns')).status).toBe(401);
    expect((await full('GET', '/v1/inbox/preferences')).status).toBe(401);
    expect((await herald.request('GET', '/v1/inbox/preferences')).status).toBe(401);

    const signer = new SubscriberTokens([SECRET]);
    const expired = await signer.inboxToken({ namespace: NS, userId: 'grace' }, Date.now() - 7_200_000, Date.now() - 3_600_000);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'ada' })).toString('base64url')}.${signature}`;
    const forged = await new SubscriberTokens([randomBytes(32).toString('base64url')]).inboxToken(
      { namespace: NS, userId: 'grace' },
      Date.now(),
      Date.now() + 60_000,
    );
    const pageToken = await signer.pageToken({ namespace: NS, userId: 'grace' });
    for (const bad of [expired, tampered, forged, pageToken, 'garbage']) {
      const res = await withKey(herald, bad)('GET', '/v1/inbox/preferences');
      expect(res.status, bad).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    }

    // A browser on another origin may call it (CORS), with the token in a header.
    const preflight = await fetch(`${herald.baseUrl}/v1/inbox/preferences`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');

    // ttlSeconds: at most a day; a trigger key only for its campaigns' namespaces.
    expect((await full('POST', '/v1/inbox/tokens', { namespace: NS, userId: 'grace', ttlSeconds: 86_401 })).status).toBe(400);
    const campaignId = await liveCampaign({});
    const limited = withKey(herald, (await createApiKey(full, { scope: 'trigger', campaignIds: [campaignId] })).key);
    expect((await limited('POST', '/v1/inbox/tokens', { namespace: NS, userId: 'grace' })).status).toBe(201);
    const elsewhere = await limited('POST', '/v1/inbox/tokens', { namespace: 'elsewhere', userId: 'grace' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.type).toBe('forbidden');
    const anyCampaign = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    expect((await anyCampaign('POST', '/v1/inbox/tokens', { namespace: 'elsewhere', userId: 'grace' })).status).toBe(201);
  });

  it('a unitary trigger excludes, with reason preference, whom the channel or the category is turned off for; a critical category goes', async () => {
    const orders = await category('orders');
    const alerts = await category('alerts', { critical: true });
    for (const userId of ['u-on', 'u-channel-off', 'u-category-off']) await profile(userId);
    await full('PUT', preferencesPath('u-channel-off'), { channels: { email: false } });
    await full('PUT', preferencesPath('u-category-off'), { categories: { [orders]: { email: false } } });

    const inOrders = await liveCampaign({ category: orders });
    expect(outcomes(await trigger(inOrders, ['u-on', 'u-channel-off', 'u-category-off']))).toEqual({
      'u-on': 'sent',
      'u-channel-off': 'excluded:preference',
      'u-category-off': 'excluded:preference',
    });
    // Without a category only the channel setting applies; in a critical category nothing does.
    const plain = await liveCampaign({});
    expect(outcomes(await trigger(plain, ['u-channel-off', 'u-category-off']))).toEqual({ 'u-channel-off': 'excluded:preference', 'u-category-off': 'sent' });
    const critical = await liveCampaign({ category: alerts });
    expect(outcomes(await trigger(critical, ['u-channel-off', 'u-category-off']))).toEqual({ 'u-channel-off': 'sent', 'u-category-off': 'sent' });
    // A change takes effect at the next send.
    await full('PUT', preferencesPath('u-channel-off'), { channels: { email: true } });
    expect(outcomes(await trigger(plain, ['u-channel-off']))).toEqual({ 'u-channel-off': 'sent' });
  });

  it('an audience run excludes the member who turned the channel off', async () => {
    for (const userId of ['m-1', 'm-2', 'm-3']) await profile(userId);
    await full('PUT', preferencesPath('m-2'), { channels: { sms: false } });
    const audience = await full('POST', '/v1/audiences', { name: 'members', namespace: NS, definition: { type: 'static' } });
    expect(audience.status, JSON.stringify(audience.body)).toBe(201);
    const added = await herald.request(
      'POST',
      `/v1/audiences/${audience.body.id}/members`,
      ['m-1', 'm-2', 'm-3'].map((userId) => JSON.stringify({ userId })).join('\n'),
      {
        authorization: `Bearer ${BOOT}`,
        'content-type': 'application/x-ndjson',
      },
    );
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const campaignId = await liveCampaign({ type: 'marketing', channel: 'sms', content: { body: 'Hi {{ profile.firstName }}' } });
    const run = await full('POST', '/v1/executions/audience', { requestId: uniqueRequestId('aud'), campaignId, audience: { id: audience.body.id } });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const done = await settled(run.body.executionId);
    expect(done.counts).toMatchObject({ sent: 2, excluded: 1 });
    expect(done.audience.excludedByReason).toEqual({ preference: 1 });
    const recipients = await full('GET', `/v1/executions/${run.body.executionId}/recipients?limit=10`);
    expect(outcomes({ recipients: recipients.body.items })).toEqual({ 'm-1': 'sent', 'm-2': 'excluded:preference', 'm-3': 'sent' });
  });

  it("a campaign with steps excludes at the send step whose channel the person turned off, and sends the others'", async () => {
    await profile('s-1');
    await full('PUT', preferencesPath('s-1'), { channels: { sms: false } });
    const campaignId = await liveCampaign({
      steps: [
        { id: 'email', type: 'send' },
        { id: 'text', type: 'send', channel: 'sms', content: { body: 'Also by SMS' } },
      ],
    });
    const done = await trigger(campaignId, ['s-1']);
    const steps = done.recipients[0].steps as { id: string; status: string; reason?: string }[];
    expect(steps.map((s) => [s.id, s.status, s.reason ?? null])).toEqual([
      ['email', 'sent', null],
      ['text', 'excluded', 'preference'],
    ]);
  });

  it('the hosted page: {{ preferencesUrl }} leads to it; GET renders the toggles, POST changes them at once, audited', async () => {
    const offers = await category('offers', { description: 'Deals & <news>' });
    const security = await category('secure', { critical: true });
    await profile('p-1');
    const campaignId = await liveCampaign({ content: { subject: 'Hi', html: '<p><a href="{{ preferencesUrl }}">Your preferences</a></p>' } });
    await trigger(campaignId, ['p-1']);
    const sent = (await full('GET', `/v1/outbox?campaignId=${campaignId}`)).body.items[0];
    const url = /href="([^"]+)"/.exec(sent.html)![1]!;
    expect(url.startsWith(`${herald.baseUrl}/preferences/`)).toBe(true);
    expect(url).not.toContain('p-1');

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toContain('<script');
    expect(html).toContain('Deals &amp; &lt;news&gt;');
    expect(html).toContain(`name="category:${offers}:email"`);
    expect(html).not.toContain(`name="category:${security}:email"`);
    const shown = /name="shown" value="([^"]+)"/.exec(html)![1]!;

    // The person unticks SMS and the offers' email; everything else stays ticked.
    const checked = shown
      .split(',')
      .filter((entry) => entry.endsWith('=1'))
      .map((entry) => entry.split('=')[0]!)
      .filter((name) => name !== 'channel:sms' && name !== `category:${offers}:email`);
    expect(checked).toContain(`category:${offers}:sms`);
    const form = new URLSearchParams([['shown', shown], ...checked.map((name) => [name, 'on'] as [string, string])]);
    const saved = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Your preferences are saved');
    expect((await full('GET', preferencesPath('p-1'))).body).toEqual({ channels: { sms: false }, categories: { [offers]: { email: false } } });
    const profileId = (await herald.db.selectFrom('profiles').select('id').where('namespace', '=', NS).where('user_id', '=', 'p-1').executeTakeFirstOrThrow())
      .id;
    expect((await auditOf('profile', profileId))[0]).toMatchObject({ action: 'profile.preferences-updated', actorKeyId: 'public:preferences' });

    // A forged or altered token changes nothing and answers 404.
    const token = url.slice(url.lastIndexOf('/') + 1);
    const forged = await new SubscriberTokens([randomBytes(32).toString('base64url')]).pageToken({ namespace: NS, userId: 'p-1' });
    for (const bad of [forged, `${token.slice(0, -3)}abc`]) {
      expect((await fetch(`${herald.baseUrl}/preferences/${bad}`)).status).toBe(404);
      expect((await fetch(`${herald.baseUrl}/preferences/${bad}`, { method: 'POST', body: form })).status).toBe(404);
    }
  });

  it('erasure removes the preferences and export shows them', async () => {
    await profile('e-1');
    await full('PUT', preferencesPath('e-1'), { channels: { push: false } });
    const exported = await full('GET', `/v1/profiles/${NS}/e-1/export`);
    expect(exported.body.preferences).toMatchObject({ channels: { push: false }, categories: {} });
    const erased = await full('DELETE', `/v1/profiles/${NS}/e-1`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(202);
    expect(erased.body.erased.preferences).toBe(1);
    expect(await herald.db.selectFrom('profile_preferences').selectAll().where('namespace', '=', NS).where('user_id', '=', 'e-1').execute()).toEqual([]);
  });
});
