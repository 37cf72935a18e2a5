import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceExecutionWorkflowId } from '../../workflows/workflow-ids';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';
import { startFakeResend, type FakeResend } from '../support/fake-resend';

/** A marketing email campaign: members need consent on email. */
const marketing = (overrides: Record<string, unknown> = {}) => ({
  name: 'Winter sale',
  type: 'marketing',
  content: { subject: 'Hi {{ profile.firstName }}', html: '<p>{{ profile.firstName }}, {{ context.offer }}</p>', text: '{{ context.offer }}' },
  ...overrides,
});

/** Profiles `<segment>-<i>@example.com` in namespace email, with consent unless `noConsent` picks them. */
async function seed(herald: Herald, segment: string, count: number, noConsent: (i: number) => boolean = () => false) {
  const ids = Array.from({ length: count }, (_, i) => `${segment}-${String(i).padStart(4, '0')}@example.com`);
  for (let i = 0; i < ids.length; i += 25) {
    await Promise.all(
      ids.slice(i, i + 25).map(async (userId, j) => {
        const res = await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, {
          attributes: { firstName: `P${i + j}`, segment },
          consents: { email: noConsent(i + j) ? 'out' : 'in' },
        });
        if (res.status !== 200 && res.status !== 201) throw new Error(`seed failed: ${JSON.stringify(res.body)}`);
      }),
    );
  }
  return ids;
}

async function ruleAudience(herald: Herald, segment: string) {
  const res = await herald.request('POST', '/v1/audiences', {
    name: `segment ${segment}`,
    namespace: 'email',
    definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function outbox(herald: Herald, campaignId: string) {
  const res = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}&limit=500`);
  return res.body.items as { to: string; executionId: string; subject: string; html: string; createdAt: string }[];
}

async function runAudience(herald: Herald, body: Record<string, unknown>) {
  const res = await herald.request('POST', '/v1/executions/audience', { requestId: uniqueRequestId('aud'), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

describe('audience executions', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(() => herald.stop());

  it('sends once to every consenting member, excludes the rest with a reason, and pages the recipients', async () => {
    const ids = await seed(herald, 'basic', 30, (i) => i % 10 === 0);
    const audienceId = await ruleAudience(herald, 'basic');
    const campaign = await liveCampaign(herald, marketing());
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId }, context: { offer: '20% off' } });
    const execution = await herald.waitForExecution(executionId, 60_000);
    expect(execution).toMatchObject({
      status: 'completed',
      kind: 'audience',
      counts: { sent: 27, failed: 0, excluded: 3, pending: 0 },
      audience: { audienceId, targetedProfileCount: 30, excludedByReason: { 'no-consent': 3 }, progress: { processed: 30, targeted: 30, percent: 100 } },
    });
    expect(execution.recipients).toBeUndefined();

    const messages = (await outbox(herald, campaign.id)).filter((m) => m.executionId === executionId);
    expect(messages).toHaveLength(27);
    expect(new Set(messages.map((m) => m.to)).size).toBe(27);
    const first = messages.find((m) => m.to === ids[1]);
    expect(first).toMatchObject({ subject: 'Hi P1', html: '<p>P1, 20% off</p>' });

    // Paged recipients, in userId order, 12 at a time.
    const seen: { userId: string; status: string; reason?: string; position: number }[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await herald.request('GET', `/v1/executions/${executionId}/recipients?limit=12${after === undefined ? '' : `&after=${after}`}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      after = page.body.nextAfter;
      if (after === undefined) break;
    }
    expect(seen.map((r) => r.userId)).toEqual([...ids].sort());
    expect(seen.filter((r) => r.status === 'excluded').map((r) => r.reason)).toEqual(['no-consent', 'no-consent', 'no-consent']);

    // Operators see counts, never an address, in the UI's summary and current details.
    const handle = herald.client.workflow.getHandle(audienceExecutionWorkflowId(campaign.id, execution.requestId));
    const description = await handle.describe();
    const summary = await description.staticSummary();
    expect(summary).toContain(`to audience ${audienceId}`);
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain('basic-0001@example.com');
  });

  it('freezes the audience at start: a profile that joins during the run is not sent to', async () => {
    await seed(herald, 'frozen', 12);
    const audienceId = await ruleAudience(herald, 'frozen');
    const campaign = await liveCampaign(herald, marketing());
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId }, throttle: { messagesPerSecond: 4 } });
    await new Promise((resolve) => setTimeout(resolve, 800));
    await herald.request('PUT', '/v1/profiles/email/frozen-late@example.com', {
      attributes: { firstName: 'Late', segment: 'frozen' },
      consents: { email: 'in' },
    });
    const execution = await herald.waitForExecution(executionId, 60_000);
    expect(execution.audience.targetedProfileCount).toBe(12);
    expect(execution.counts.sent).toBe(12);
    const estimate = await herald.request('GET', `/v1/audiences/${audienceId}`);
    expect(estimate.body.estimatedSize).toBe(13);
    expect((await outbox(herald, campaign.id)).some((m) => m.to === 'frozen-late@example.com')).toBe(false);
  });

  it('is idempotent by requestId', async () => {
    await seed(herald, 'idem', 5);
    const audienceId = await ruleAudience(herald, 'idem');
    const campaign = await liveCampaign(herald, marketing());
    const body = { requestId: uniqueRequestId('idem'), campaignId: campaign.id, audience: { id: audienceId } };
    const first = await herald.request('POST', '/v1/executions/audience', body);
    const second = await herald.request('POST', '/v1/executions/audience', body);
    expect(second.body.executionId).toBe(first.body.executionId);
    expect(first.headers.get('idempotency-replay')).toBeNull();
    expect(second.headers.get('idempotency-replay')).toBe('true');
    await herald.waitForExecution(first.body.executionId, 60_000);
    const third = await herald.request('POST', '/v1/executions/audience', body);
    expect(third.body.executionId).toBe(first.body.executionId);
    expect(third.headers.get('idempotency-replay')).toBe('true');
    expect(await outbox(herald, campaign.id)).toHaveLength(5);
    const changed = await herald.request('POST', '/v1/executions/audience', { ...body, context: { offer: 'other' } });
    expect(changed.status).toBe(409);
  });

  it('runs a scheduled execution when it is due, and shows the schedule', async () => {
    await seed(herald, 'sched', 3);
    const audienceId = await ruleAudience(herald, 'sched');
    const campaign = await liveCampaign(herald, marketing());
    const executeAt = new Date(Date.now() + 3000).toISOString();
    const accepted = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId }, schedule: { executeAt } });
    expect(accepted).toEqual({ scheduleId: expect.any(String), executeAt, status: 'scheduled' });
    const scheduled = await herald.request('GET', `/v1/executions/schedules/${accepted.scheduleId}`);
    expect(scheduled.body).toMatchObject({ scheduleId: accepted.scheduleId, status: 'scheduled', campaignId: campaign.id, audienceId, executeAt });
    expect(await outbox(herald, campaign.id)).toHaveLength(0);
    const execution = await herald.waitForExecution(scheduled.body.executionId, 60_000);
    expect(execution.counts.sent).toBe(3);
    const sentAt = (await outbox(herald, campaign.id)).map((m) => Date.parse(m.createdAt));
    expect(Math.min(...sentAt)).toBeGreaterThanOrEqual(Date.parse(executeAt));
    const started = await herald.request('GET', `/v1/executions/schedules/${accepted.scheduleId}`);
    expect(started.body.status).toBe('started');
    const late = await herald.request('DELETE', `/v1/executions/schedules/${accepted.scheduleId}`);
    expect(late.status).toBe(409);
  });

  it('cancels a scheduled execution before it fires', async () => {
    await seed(herald, 'cancel', 3);
    const audienceId = await ruleAudience(herald, 'cancel');
    const campaign = await liveCampaign(herald, marketing());
    const accepted = await runAudience(herald, {
      campaignId: campaign.id,
      audience: { id: audienceId },
      schedule: { executeAt: new Date(Date.now() + 60_000).toISOString() },
    });
    const cancelled = await herald.request('DELETE', `/v1/executions/schedules/${accepted.scheduleId}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await herald.request('DELETE', `/v1/executions/schedules/${accepted.scheduleId}`);
    expect(again.body.status).toBe('cancelled');
    const execution = await herald.request('GET', `/v1/executions/${cancelled.body.executionId}`);
    expect(execution.body).toMatchObject({ status: 'failed', reason: 'schedule-cancelled', counts: { sent: 0 } });
    const description = await herald.client.workflow.getHandle(audienceExecutionWorkflowId(campaign.id, execution.body.requestId)).describe();
    expect(description.status.name).toBe('TERMINATED');
  });

  it('stops at the next batch when the campaign is stopped, excluding the rest as campaign-stopped', async () => {
    await seed(herald, 'stop', 20);
    const audienceId = await ruleAudience(herald, 'stop');
    const campaign = await liveCampaign(herald, marketing());
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId }, throttle: { messagesPerSecond: 4 } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await herald.request('POST', `/v1/campaigns/${campaign.id}/stop`)).status).toBe(200);
    const execution = await herald.waitForExecution(executionId, 60_000);
    expect(execution.status).toBe('completed');
    expect(execution.counts.sent).toBeGreaterThanOrEqual(4);
    expect(execution.counts.sent).toBeLessThan(20);
    expect(execution.audience.excludedByReason['campaign-stopped']).toBe(20 - execution.counts.sent);
    expect(await outbox(herald, campaign.id)).toHaveLength(execution.counts.sent);
  });

  it('refuses what it cannot run with problem+json', async () => {
    const audienceId = await ruleAudience(herald, 'refusals');
    const transactional = await liveCampaign(herald);
    const campaign = await liveCampaign(herald, marketing());
    const notMarketing = await herald.request('POST', '/v1/executions/audience', { campaignId: transactional.id, audience: { id: audienceId } });
    expect(notMarketing.status).toBe(422);
    expect(notMarketing.body.type).toBe('campaign-not-marketing');
    expect((await herald.request('POST', '/v1/executions/audience', { campaignId: campaign.id, audience: { id: 'nope' } })).status).toBe(404);
    expect(
      (
        await herald.request('POST', '/v1/executions/audience', {
          campaignId: campaign.id,
          audience: { id: audienceId },
          throttle: { messagesPerSecond: 2001 },
        })
      ).status,
    ).toBe(400);
    const past = await herald.request('POST', '/v1/executions/audience', {
      campaignId: campaign.id,
      audience: { id: audienceId },
      schedule: { executeAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(422);
    expect(past.headers.get('content-type')).toContain('application/problem+json');
    expect((await herald.request('GET', '/v1/executions/schedules/sch_unknown')).status).toBe(404);
  });
});

describe('audience executions through Resend', () => {
  let herald: Herald;
  let resend: FakeResend;

  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: 're_audience' });
    herald = await startHerald({
      env: { HERALD_EMAIL_PROVIDER: 'resend', RESEND_API_KEY: 're_audience', RESEND_BASE_URL: resend.url, EMAIL_FROM: 'Herald <news@example.com>' },
    });
  });
  afterAll(async () => {
    await herald.stop();
    await resend.close();
  });

  it('sends through the batch endpoint, 100 emails per call, once per member even after a 503', async () => {
    await seed(herald, 'batch', 230);
    const audienceId = await ruleAudience(herald, 'batch');
    const campaign = await liveCampaign(herald, marketing());
    resend.failNext([{ status: 503 }]);
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } });
    const execution = await herald.waitForExecution(executionId, 90_000);
    expect(execution.counts).toMatchObject({ sent: 230, failed: 0 });
    const batches = resend.requests.filter((r) => r.path === '/emails/batch' && r.status === 200);
    expect(batches.map((r) => r.body.length).sort((a, b) => b - a)).toEqual([100, 100, 30]);
    expect(new Set(batches.map((r) => r.idempotencyKey)).size).toBe(3);
    const perRecipient = resend.deliveriesByRecipient();
    expect(Object.keys(perRecipient)).toHaveLength(230);
    expect(Object.values(perRecipient).every((n) => n === 1)).toBe(true);
  });

  it('sends one by one when the provider refuses a batch, so one bad address fails only itself', async () => {
    await seed(herald, 'badbatch', 5);
    const audienceId = await ruleAudience(herald, 'badbatch');
    const campaign = await liveCampaign(herald, marketing());
    resend.rejectAddress('badbatch-0002@example.com');
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } });
    const execution = await herald.waitForExecution(executionId, 60_000);
    expect(execution.counts).toMatchObject({ sent: 4, failed: 1 });
  });
});

describe('audience run window', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald({ env: { HERALD_AUDIENCE_MAX_RUNTIME: '3s' } });
  });
  afterAll(() => herald.stop());

  it('excludes the members not reached when the window closes as window-expired, and counts them', async () => {
    await seed(herald, 'window', 40);
    const audienceId = await ruleAudience(herald, 'window');
    const campaign = await liveCampaign(herald, marketing());
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId }, throttle: { messagesPerSecond: 5 } });
    const execution = await herald.waitForExecution(executionId, 60_000);
    expect(execution.status).toBe('completed');
    // At 5 per second a 3 s window holds about three batches of five at most, however slow the machine (this
    // bound, with margin, is all that does not depend on the wall clock); how many batches the window reaches
    // is checked in workflow time in test/workflows/audience-throttle.test.ts.
    expect(execution.counts.sent).toBeLessThanOrEqual(25);
    expect(execution.audience.excludedByReason['window-expired']).toBe(40 - execution.counts.sent);
    expect(execution.audience.progress).toEqual({ processed: 40, targeted: 40, percent: 100 });
    expect(await outbox(herald, campaign.id)).toHaveLength(execution.counts.sent);
  });
});

describe('audience executions with capping and quiet hours', () => {
  let herald: Herald;
  let deferred: { executionId: string; campaignId: string; windowEndMs: number };
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

  beforeAll(async () => {
    herald = await startHerald();
    // Started first: a quiet-hours window (UTC, minute resolution) that ends at the next minute boundary at least 8 s away.
    await seed(herald, 'deferred', 4);
    const audienceId = await ruleAudience(herald, 'deferred');
    const now = Date.now();
    let windowEndMs = Math.ceil(now / 60_000) * 60_000;
    if (windowEndMs - now < 8_000) windowEndMs += 60_000;
    const campaign = await liveCampaign(herald, marketing({ quietHours: { from: hhmm(windowEndMs - 3_600_000), to: hhmm(windowEndMs), action: 'defer' } }));
    const { executionId } = await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } });
    deferred = { executionId, campaignId: campaign.id, windowEndMs };
  });
  afterAll(() => herald.stop());

  it("caps members who already had the campaign's maximum in the period", async () => {
    await seed(herald, 'capped', 3);
    const audienceId = await ruleAudience(herald, 'capped');
    const campaign = await liveCampaign(herald, marketing({ capping: { max: 1, periodHours: 24 } }));
    const first = await herald.waitForExecution((await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } })).executionId, 60_000);
    expect(first.counts.sent).toBe(3);
    const second = await herald.waitForExecution((await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } })).executionId, 60_000);
    expect(second.counts).toMatchObject({ sent: 0, excluded: 3 });
    expect(second.audience.excludedByReason).toEqual({ capped: 3 });
    expect(await outbox(herald, campaign.id)).toHaveLength(3);
  });

  it('discards members inside quiet hours with reason quiet-hours', async () => {
    await seed(herald, 'quiet', 3);
    const audienceId = await ruleAudience(herald, 'quiet');
    const now = Date.now();
    const campaign = await liveCampaign(herald, marketing({ quietHours: { from: hhmm(now - 3_600_000), to: hhmm(now + 3_600_000), action: 'discard' } }));
    const execution = await herald.waitForExecution((await runAudience(herald, { campaignId: campaign.id, audience: { id: audienceId } })).executionId, 60_000);
    expect(execution.counts).toMatchObject({ sent: 0, excluded: 3 });
    expect(execution.audience.excludedByReason).toEqual({ 'quiet-hours': 3 });
  });

  it('defers members inside quiet hours to the end of the window, on a durable timer', async () => {
    const { executionId, campaignId, windowEndMs } = deferred;
    const waiting = (await herald.request('GET', `/v1/executions/${executionId}`)).body;
    if (Date.now() < windowEndMs - 1000) {
      expect(waiting.status).toBe('running');
      expect(waiting.counts.pending).toBe(4);
      expect(await outbox(herald, campaignId)).toEqual([]);
    }
    const execution = await herald.waitForExecution(executionId, 90_000);
    expect(execution.counts).toMatchObject({ sent: 4, pending: 0 });
    const sentAt = (await outbox(herald, campaignId)).map((m) => Date.parse(m.createdAt));
    expect(sentAt).toHaveLength(4);
    expect(Math.min(...sentAt)).toBeGreaterThanOrEqual(windowEndMs);
    const history = await herald.client.workflow.getHandle(audienceExecutionWorkflowId(campaignId, execution.requestId)).fetchHistory();
    expect(history.events?.filter((e) => e.timerStartedEventAttributes).length).toBe(1);
  }, 100_000);
});
