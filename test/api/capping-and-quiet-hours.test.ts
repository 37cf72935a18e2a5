import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailCampaign, liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const NAMESPACE = 'crm';
const marketing = (overrides: Record<string, unknown> = {}) =>
  emailCampaign({
    name: 'Weekly offers',
    type: 'marketing',
    audience: { namespace: NAMESPACE, createMissingProfiles: false },
    content: { subject: 'Offers for {{ profile.firstName }}', html: '<p>Hi {{ profile.firstName }}</p>' },
    ...overrides,
  });

/** "HH:MM" of a UTC instant. */
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

describe('capping and quiet hours', () => {
  let herald: Herald;
  /** Started first (it waits until a window ends at the next minute boundary), checked last. */
  let deferred: { executionId: string; campaignId: string; windowEndMs: number };

  async function profile(userId: string, attributes: Record<string, unknown> = {}) {
    const res = await herald.request('PUT', `/v1/profiles/${NAMESPACE}/${encodeURIComponent(userId)}`, {
      attributes: { firstName: 'Ada', email: `${userId}@example.com`, ...attributes },
      consents: { email: 'in' },
    });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }

  async function start(campaignId: string, userIds: string[]): Promise<string> {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('cap'),
      campaignId,
      recipients: userIds.map((userId) => ({ userId, namespace: NAMESPACE })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.executionId;
  }

  async function trigger(campaignId: string, userIds: string[]) {
    return herald.waitForExecution(await start(campaignId, userIds));
  }

  const outcome = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);

  beforeAll(async () => {
    herald = await startHerald();
    // A window that ends at the next minute boundary at least 8 s away, in UTC (minute resolution).
    const now = Date.now();
    let windowEndMs = Math.ceil(now / 60_000) * 60_000;
    if (windowEndMs - now < 8_000) windowEndMs += 60_000;
    await profile('deferred-user');
    const campaign = await liveCampaign(
      herald,
      marketing({ name: 'Deferred offers', quietHours: { from: hhmm(windowEndMs - 3_600_000), to: hhmm(windowEndMs), action: 'defer' } }),
    );
    deferred = { executionId: await start(campaign.id, ['deferred-user']), campaignId: campaign.id, windowEndMs };
  });
  afterAll(() => herald?.stop());

  it('holds a deferred recipient pending, with reason `quiet-hours-deferred`, while the window lasts', async () => {
    const { executionId, campaignId, windowEndMs } = deferred;
    let waiting: any;
    for (let i = 0; i < 100; i++) {
      waiting = (await herald.request('GET', `/v1/executions/${executionId}`)).body;
      if (outcome(waiting, 'deferred-user')?.reason) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The window ends at least 8 s after the call: it is still on.
    expect(Date.now()).toBeLessThan(windowEndMs);
    expect(waiting.status).toBe('running');
    expect(outcome(waiting, 'deferred-user')).toMatchObject({ status: 'pending', reason: 'quiet-hours-deferred' });
    expect((await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`)).body.items).toEqual([]);
  });

  describe('validation', () => {
    it.each([
      ['a timezone that is not IANA', { quietHours: { from: '21:00', to: '08:00', timezone: 'Europe/Pariss', action: 'defer' } }, 'quietHours.timezone'],
      ['an hour past 23', { quietHours: { from: '24:00', to: '08:00', action: 'defer' } }, 'quietHours.from'],
      ['a time without two-digit hours', { quietHours: { from: '21:00', to: '8:00', action: 'defer' } }, 'quietHours.to'],
      ['an unknown action', { quietHours: { from: '21:00', to: '08:00', action: 'delay' } }, 'quietHours.action'],
      ['a capping max of 0', { capping: { max: 0, periodHours: 24 } }, 'capping.max'],
      ['a capping period over a year', { capping: { max: 1, periodHours: 8761 } }, 'capping.periodHours'],
      ['a fractional capping max', { capping: { max: 1.5, periodHours: 24 } }, 'capping.max'],
    ])('refuses %s with 400 problem+json', async (_name, fields, field) => {
      const res = await herald.request('POST', '/v1/campaigns', marketing(fields));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(res.body.errors)).toContain(field);
    });

    it('refuses capping or quiet hours on a transactional campaign, on create and on edit, saying they are marketing-only', async () => {
      for (const fields of [{ capping: { max: 1, periodHours: 24 } }, { quietHours: { from: '21:00', to: '08:00', action: 'discard' } }]) {
        const res = await herald.request('POST', '/v1/campaigns', emailCampaign(fields));
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ type: 'marketing-only-field', detail: expect.stringContaining('transactional') });
      }
      const draft = (await herald.request('POST', '/v1/campaigns', emailCampaign())).body;
      const edit = await herald.request('PATCH', `/v1/campaigns/${draft.id}`, { quietHours: { from: '21:00', to: '08:00', action: 'defer' } });
      expect(edit.status, JSON.stringify(edit.body)).toBe(400);
      expect(edit.body.type).toBe('marketing-only-field');
      // A marketing draft with capping cannot become transactional while it keeps it; clearing it in the same edit can.
      const capped = (await herald.request('POST', '/v1/campaigns', marketing({ capping: { max: 2, periodHours: 24 } }))).body;
      expect((await herald.request('PATCH', `/v1/campaigns/${capped.id}`, { type: 'transactional' })).status).toBe(400);
      const cleared = await herald.request('PATCH', `/v1/campaigns/${capped.id}`, { type: 'transactional', capping: null });
      expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
      expect(cleared.body.capping).toBeUndefined();
      // A live transactional campaign's new version is refused the same way.
      const live = await liveCampaign(herald);
      const liveEdit = await herald.request('PATCH', `/v1/campaigns/${live.id}`, { capping: { max: 1, periodHours: 1 } });
      expect(liveEdit.status, JSON.stringify(liveEdit.body)).toBe(400);
    });

    it('refuses bad global rules with 400', async () => {
      expect((await herald.request('PUT', '/v1/rules/capping/fax', { max: 1, periodHours: 1 })).status).toBe(400);
      expect((await herald.request('PUT', '/v1/rules/capping/email', { max: 1001, periodHours: 1 })).status).toBe(400);
      expect((await herald.request('PUT', '/v1/rules/capping/email', { max: 1 })).status).toBe(400);
      expect((await herald.request('PUT', '/v1/rules/capping/email', { max: 1, periodHours: 1, extra: true })).status).toBe(400);
    });
  });

  it('stores capping and quiet hours on the campaign and in its version snapshots', async () => {
    const capping = { max: 3, periodHours: 48 };
    const quietHours = { from: '22:00', to: '07:30', timezone: 'Europe/Paris', action: 'defer' };
    const created = await herald.request('POST', '/v1/campaigns', marketing({ capping, quietHours }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ capping, quietHours });
    const edited = await herald.request('PATCH', `/v1/campaigns/${created.body.id}`, { capping: { max: 5, periodHours: 24 }, quietHours: null });
    expect(edited.body.capping).toEqual({ max: 5, periodHours: 24 });
    expect(edited.body.quietHours).toBeUndefined();
    const versions = (await herald.request('GET', `/v1/campaigns/${created.body.id}/versions`)).body.items;
    expect(versions.map((v: any) => [v.version, v.capping, v.quietHours])).toEqual([
      [2, { max: 5, periodHours: 24 }, undefined],
      [1, capping, quietHours],
    ]);
  });

  it('excludes a recipient as `capped` once the campaign sent them its max in the period', async () => {
    await profile('capped-user');
    await profile('other-user');
    const campaign = await liveCampaign(herald, marketing({ capping: { max: 2, periodHours: 24 } }));
    for (let i = 0; i < 2; i++) expect(outcome(await trigger(campaign.id, ['capped-user']), 'capped-user').status).toBe('sent');
    const third = await trigger(campaign.id, ['capped-user', 'other-user']);
    expect(outcome(third, 'capped-user')).toMatchObject({ status: 'excluded', reason: 'capped' });
    expect(outcome(third, 'other-user').status).toBe('sent');
    expect(third.counts).toMatchObject({ sent: 1, excluded: 1 });
    // Only sends inside the period count: moved back past it, they free the recipient again.
    await herald.db
      .updateTable('deliveries')
      .set({ updated_at: new Date(Date.now() - 25 * 3_600_000).toISOString() })
      .where('user_id', '=', 'capped-user')
      .where('status', '=', 'sent')
      .execute();
    expect(outcome(await trigger(campaign.id, ['capped-user']), 'capped-user').status).toBe('sent');
  });

  it('caps marketing on a channel across campaigns with a global rule, never transactional', async () => {
    await profile('global-user');
    await profile('fresh-user');
    const first = await liveCampaign(herald, marketing({ name: 'First offers' }));
    const second = await liveCampaign(herald, marketing({ name: 'Second offers' }));
    const transactional = await liveCampaign(herald, { audience: { namespace: NAMESPACE, createMissingProfiles: false } });
    const put = await herald.request('PUT', '/v1/rules/capping/email', { max: 1, periodHours: 24 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ channel: 'email', max: 1, periodHours: 24, updatedAt: expect.any(String) });
    try {
      expect(outcome(await trigger(first.id, ['global-user']), 'global-user').status).toBe('sent');
      const capped = await trigger(second.id, ['global-user', 'fresh-user']);
      expect(outcome(capped, 'global-user')).toMatchObject({ status: 'excluded', reason: 'capped' });
      expect(outcome(capped, 'fresh-user').status).toBe('sent');
      // Transactional messages neither are capped nor lift the count of marketing ones.
      for (let i = 0; i < 2; i++) expect(outcome(await trigger(transactional.id, ['global-user']), 'global-user').status).toBe('sent');
      // The list shows the rule; another channel's rule does not count email.
      expect((await herald.request('PUT', '/v1/rules/capping/sms', { max: 5, periodHours: 1 })).status).toBe(200);
      expect((await herald.request('GET', '/v1/rules/capping')).body.items).toEqual([
        expect.objectContaining({ channel: 'email', max: 1, periodHours: 24 }),
        expect.objectContaining({ channel: 'sms', max: 5, periodHours: 1 }),
      ]);
    } finally {
      expect((await herald.request('DELETE', '/v1/rules/capping/email')).status).toBe(204);
      expect((await herald.request('DELETE', '/v1/rules/capping/sms')).status).toBe(204);
    }
    expect((await herald.request('DELETE', '/v1/rules/capping/email')).status).toBe(404);
    expect((await herald.request('GET', '/v1/rules/capping')).body.items).toEqual([]);
    // Without the rule, the second campaign sends again.
    expect(outcome(await trigger(second.id, ['global-user']), 'global-user').status).toBe('sent');
    const audit = (await herald.request('GET', '/v1/audit-log?resourceType=capping_rule&resourceId=email')).body.items;
    expect(audit.map((e: any) => e.action)).toEqual(['capping_rule.deleted', 'capping_rule.set']);
    expect(audit[1].after).toMatchObject({ channel: 'email', max: 1, periodHours: 24 });
  });

  it("discards inside quiet hours as `quiet-hours`, read in the profile's timezone first", async () => {
    await profile('utc-user');
    // 5:30 ahead of UTC: outside a two-hour window around now in UTC.
    await profile('kolkata-user', { timezone: 'Asia/Kolkata' });
    const now = Date.now();
    const campaign = await liveCampaign(
      herald,
      marketing({ quietHours: { from: hhmm(now - 3_600_000), to: hhmm(now + 3_600_000), timezone: 'UTC', action: 'discard' } }),
    );
    const execution = await trigger(campaign.id, ['utc-user', 'kolkata-user']);
    expect(execution.status).toBe('completed');
    expect(outcome(execution, 'utc-user')).toMatchObject({ status: 'excluded', reason: 'quiet-hours' });
    expect(outcome(execution, 'kolkata-user').status).toBe('sent');
    const outbox = (await herald.request('GET', `/v1/outbox?campaignId=${campaign.id}`)).body.items;
    expect(outbox.map((m: any) => m.userId)).toEqual(['kolkata-user']);
  });

  it('defers inside quiet hours: pending while the window lasts, sent by a durable timer when it ends', async () => {
    const { executionId, campaignId, windowEndMs } = deferred;
    const done = await herald.waitForExecution(executionId, windowEndMs - Date.now() + 30_000);
    expect(done.status).toBe('completed');
    expect(outcome(done, 'deferred-user').status).toBe('sent');
    expect(outcome(done, 'deferred-user').reason).toBeUndefined();
    const [message] = (await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`)).body.items;
    expect(Date.parse(message.createdAt)).toBeGreaterThanOrEqual(windowEndMs);
    // The workflow waited on a timer for the window's end, not polling.
    const history = await herald.client.workflow.getHandle(await workflowIdOf(executionId)).fetchHistory();
    const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
  }, 120_000);

  async function workflowIdOf(executionId: string): Promise<string> {
    const row = await herald.db.selectFrom('executions').select('workflow_id').where('id', '=', executionId).executeTakeFirstOrThrow();
    return row.workflow_id;
  }
});
