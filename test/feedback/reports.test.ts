import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { emailCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = `boot-${randomUUID()}`;
const HOUR = 3_600_000;
const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

async function waitForExecution(as: Requester, executionId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await as('GET', `/v1/executions/${executionId}`);
    if (body?.status && body.status !== 'running') return body;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still running: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Campaign reports against a known set of deliveries: five emails sent through the real API and
 * the outbox, then provider feedback, opens, clicks and an unsubscribe written as the feedback
 * paths write them (deliveries.feedback, delivery_events), plus a second execution of excluded
 * and failed deliveries. Every figure of the report is checked, before and after later changes.
 */
describe('campaign reports', () => {
  let herald: Herald;
  let as: Requester;
  let campaignId: string;
  let executionId: string;
  /** Fixed instants, in the hour before the current one, for feedback and events. */
  const base = floorHour(Date.now()) - HOUR;
  const at = (minutes: number) => iso(base + minutes * 60_000);
  const since = `?from=${iso(base)}`;
  const addresses = { ada: 'ada@gmail.com', bob: 'bob@Gmail.com', cy: 'cy@example.org', dee: 'dee@example.org', eve: 'eve@yahoo.com' };

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_API_KEYS: BOOT } });
    as = withKey(herald, BOOT);
    const created = await as('POST', '/v1/campaigns', emailCampaign({ name: 'Report me' }));
    expect(created.status).toBe(201);
    campaignId = created.body.id;
    expect((await as('POST', `/v1/campaigns/${campaignId}/activate`)).status).toBe(200);
    const recipients = Object.entries(addresses).map(([userId, emailAddress]) => ({ userId, namespace: 'email', channelData: { emailAddress } }));
    const res = await as('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('report'), campaignId, recipients, context: { code: '1' } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    executionId = res.body.executionId;
    const execution = await waitForExecution(as, executionId);
    expect(execution.recipients.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  }, 60_000);
  afterAll(async () => {
    await herald?.stop();
  });

  const report = (query = '') => as('GET', `/v1/campaigns/${campaignId}/report${query}`);

  it('counts the sends through the API: targeted, sent, top domains (lower-cased), no feedback yet (click-through over sent)', async () => {
    const res = await report();
    expect(res.status).toBe(200);
    expect(res.body.totals).toMatchObject({
      targeted: 5,
      sent: 5,
      excluded: 0,
      failed: 0,
      delivered: 0,
      retries: 0,
      opens: { total: 0, unique: 0 },
      clicks: { total: 0, unique: 0 },
      inApp: { seen: 0, read: 0 },
    });
    expect(res.body.topDomains).toEqual([
      { domain: 'example.org', count: 2 },
      { domain: 'gmail.com', count: 2 },
      { domain: 'yahoo.com', count: 1 },
    ]);
    expect(res.body.rates).toEqual({ clickThrough: 0, clickThroughBase: 'sent', clickToOpen: null });
    expect(res.body.granularity).toBe('hour');
  });

  it('adds feedback, events and another execution: every figure, the series buckets, rates, clicks per link', async () => {
    const { db } = herald;
    const position = async (userId: string) =>
      (await db.selectFrom('deliveries').select('position').where('execution_id', '=', executionId).where('user_id', '=', userId).executeTakeFirstOrThrow())
        .position;
    const feedback = async (userId: string, value: 'delivered' | 'bounced' | 'complained', minutes: number, bounceType: 'hard' | 'soft' | null = null) =>
      db
        .updateTable('deliveries')
        .set({ feedback: value, bounce_type: bounceType, feedback_at: at(minutes) })
        .where('execution_id', '=', executionId)
        .where('user_id', '=', userId)
        .execute();
    await feedback('ada', 'delivered', 1);
    await feedback('bob', 'delivered', 1);
    await feedback('cy', 'bounced', 2, 'hard');
    await feedback('dee', 'bounced', 2, 'soft');
    await feedback('eve', 'complained', 40);
    const [ada, bob, eve] = [await position('ada'), await position('bob'), await position('eve')];
    for (const p of [ada, bob]) {
      await db
        .insertInto('tracked_links')
        .values([
          { execution_id: executionId, position: p, link_index: 0, url: 'https://example.com/offer' },
          { execution_id: executionId, position: p, link_index: 1, url: 'https://example.com/more' },
        ])
        .execute();
    }
    const event = (p: number, type: 'opened' | 'clicked' | 'unsubscribed', minutes: number, linkIndex: number | null = null) => ({
      execution_id: executionId,
      position: p,
      type,
      link_index: linkIndex,
      occurred_at: at(minutes),
      user_agent: null,
    });
    await db
      .insertInto('delivery_events')
      .values([
        event(ada, 'opened', 3),
        event(ada, 'opened', 33),
        event(bob, 'opened', 4),
        event(ada, 'clicked', 5, 0),
        event(ada, 'clicked', 6, 0),
        event(bob, 'clicked', 12, 1),
        event(eve, 'unsubscribed', 41),
      ])
      .execute();
    // Provider feedback events are stored too; the delivery's feedback column counts them, once.
    await db
      .insertInto('delivery_events')
      .values({ ...event(ada, 'opened', 1), type: 'delivered' })
      .execute();

    // A second execution: recipients excluded and failed.
    const execution = await db.selectFrom('executions').selectAll().where('id', '=', executionId).executeTakeFirstOrThrow();
    const other = `${executionId}-x`;
    await db
      .insertInto('executions')
      .values({ ...execution, id: other, request_id: `${execution.request_id}-x`, workflow_id: `${execution.workflow_id}-x` })
      .execute();
    const delivery = (position: number, status: 'excluded' | 'failed', reason: string) => ({
      execution_id: other,
      user_id: `x${position}`,
      position,
      namespace: 'email',
      channel: 'email' as const,
      status,
      reason,
      address: null,
      message_id: null,
      updated_at: at(50),
      context: null,
      channel_data: null,
    });
    await db
      .insertInto('deliveries')
      .values([
        delivery(0, 'excluded', 'no-consent'),
        delivery(1, 'excluded', 'no-consent'),
        delivery(2, 'excluded', 'suppressed'),
        delivery(3, 'failed', 'provider-rejected: mailbox unavailable'),
      ])
      .execute();

    // From before the campaign existed: the feedback and events above are dated in the hour before this one.
    const res = await report(since);
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual({
      targeted: 9,
      excluded: 3,
      sent: 5,
      delivered: 3,
      delayed: 0,
      bounces: { total: 2, hard: 1, soft: 1 },
      failed: 1,
      complaints: 1,
      unsubscribes: 1,
      retries: 0,
      opens: { total: 3, unique: 2 },
      clicks: { total: 3, unique: 2 },
      inApp: { seen: 0, read: 0 },
    });
    expect(res.body.excludedByReason).toEqual({ 'no-consent': 2, suppressed: 1 });
    expect(res.body.failedByReason).toEqual({ 'provider-rejected': 1 });
    expect(res.body.rates).toEqual({ clickThrough: 0.6667, clickThroughBase: 'delivered', clickToOpen: 1 });
    expect(res.body.links).toEqual([
      { url: 'https://example.com/offer', clicks: 2, uniqueClicks: 1 },
      { url: 'https://example.com/more', clicks: 1, uniqueClicks: 1 },
    ]);

    // Hourly series over a window: the feedback and events in the hour `base`, the sends in the hour they happened.
    const window = await report(`?from=${iso(base - HOUR)}&to=${iso(base + 3 * HOUR)}`);
    expect(window.status).toBe(200);
    expect(window.body.granularity).toBe('hour');
    expect(window.body.series.map((p: { start: string }) => p.start)).toEqual([0, 1, 2, 3].map((h) => iso(base + (h - 1) * HOUR)));
    const point = (ms: number) => window.body.series.find((p: { start: string }) => p.start === iso(floorHour(ms)));
    expect(point(base)).toMatchObject({
      delivered: 3,
      bounced: 2,
      complained: 1,
      unsubscribed: 1,
      opens: 3,
      uniqueOpens: 2,
      clicks: 3,
      uniqueClicks: 2,
      excluded: 3,
      failed: 1,
      targeted: 4,
    });
    const sentAt = (await db.selectFrom('deliveries').select('updated_at').where('execution_id', '=', executionId).execute()).map((d) =>
      floorHour(Date.parse(d.updated_at)),
    );
    expect(new Set(sentAt).size).toBe(1);
    expect(point(sentAt[0]!)).toMatchObject({ sent: 5 });
    expect(window.body.series.reduce((n: number, p: { sent: number }) => n + p.sent, 0)).toBe(5);

    // A window before everything counts nothing.
    const before = await report(`?from=${iso(base - 10 * HOUR)}&to=${iso(base - 9 * HOUR)}`);
    expect(before.body.totals).toMatchObject({ targeted: 0, sent: 0, delivered: 0, opens: { total: 0, unique: 0 } });
    expect(before.body.links).toEqual([]);

    // Live: the last 24 hours in 5-minute buckets.
    const live = await as('GET', `/v1/campaigns/${campaignId}/report/live`);
    expect(live.status).toBe(200);
    expect(live.body.granularity).toBe('5m');
    expect(live.body.series.length).toBeGreaterThanOrEqual(288);
    expect(live.body.series.length).toBeLessThanOrEqual(289);
    expect(live.body.totals).toMatchObject({ targeted: 9, sent: 5, delivered: 3, complaints: 1 });
    const fiveMinutes = live.body.series.find((p: { start: string }) => p.start === at(5));
    expect(fiveMinutes).toMatchObject({ clicks: 2, uniqueClicks: 1 });
  });

  it('folds later changes in: what a delivery counted before is taken back', async () => {
    const { db } = herald;
    // ada complains after delivery; a new open for bob (not unique), a first open for cy.
    await db
      .updateTable('deliveries')
      .set({ feedback: 'complained', feedback_at: at(45) })
      .where('execution_id', '=', executionId)
      .where('user_id', '=', 'ada')
      .execute();
    const cy = (
      await db.selectFrom('deliveries').select('position').where('execution_id', '=', executionId).where('user_id', '=', 'cy').executeTakeFirstOrThrow()
    ).position;
    const bob = (
      await db.selectFrom('deliveries').select('position').where('execution_id', '=', executionId).where('user_id', '=', 'bob').executeTakeFirstOrThrow()
    ).position;
    await db
      .insertInto('delivery_events')
      .values([
        { execution_id: executionId, position: bob, type: 'opened', link_index: null, occurred_at: at(50), user_agent: null },
        { execution_id: executionId, position: cy, type: 'opened', link_index: null, occurred_at: at(51), user_agent: null },
      ])
      .execute();
    const res = await report(since);
    expect(res.body.totals).toMatchObject({ targeted: 9, delivered: 3, complaints: 2, opens: { total: 5, unique: 3 }, clicks: { total: 3, unique: 2 } });
    expect(res.body.rates).toEqual({ clickThrough: 0.6667, clickThroughBase: 'delivered', clickToOpen: 0.6667 });
    // Asked again with nothing new: the same figures (nothing counted twice).
    expect((await report(since)).body.totals).toEqual(res.body.totals);
  });

  it('answers 404 for an unknown campaign, 403 to a trigger key, 400 problem+json for a bad from/to', async () => {
    const unknown = await as('GET', '/v1/campaigns/no-such-campaign/report');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect((await as('GET', '/v1/campaigns/no-such-campaign/report/live')).status).toBe(404);

    const trigger = await createApiKey(as, { scope: 'trigger' });
    for (const path of [`/v1/campaigns/${campaignId}/report`, `/v1/campaigns/${campaignId}/report/live`]) {
      const denied = await withKey(herald, trigger.key)('GET', path);
      expect(denied.status).toBe(403);
      expect(denied.body.type).toContain('forbidden');
    }

    for (const query of [
      '?from=yesterday',
      '?to=2026-13-01T00:00:00Z',
      `?from=${iso(base)}&to=${iso(base - HOUR)}`,
      `?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
    ]) {
      const bad = await report(query);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('serves the report page and its chart bundle without any report data', async () => {
    const page = await fetch(`${herald.baseUrl}/reports/campaigns/${campaignId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/reports/assets/chart.js');
    expect(html).not.toContain('example.org');
    const bundle = await fetch(`${herald.baseUrl}/reports/assets/chart.js`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain('Chart');
    const docs = await (await fetch(`${herald.baseUrl}/docs`)).text();
    expect(docs).toContain('href="/reports"');
  });
});
