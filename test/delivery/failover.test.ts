/**
 * Failover end to end, as a user sets it up over HTTP (docs/failover.md): a Resend configuration
 * with an SMTP fallback, a campaign that sends with it, Resend answering 500. A real Herald (API,
 * Temporal worker, the suite's database) sends through the `resend` SDK to a fake Resend and
 * through nodemailer to a real SMTP server, both on loopback. What the breaker does over time is
 * shown in test/channels/provider-failover.test.ts with a moved clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign } from '../support/campaigns';
import type { FakeResend } from '../support/fake-resend';
import type { FakeSmtp } from '../support/fake-smtp';
import type { Herald } from '../support/herald-harness';
import { freshAddress, outcomeOf, resendWithSmtpFallback, startResendAndSmtp, triggerEmail } from './support/configured-email';

describe('failover from Resend to SMTP', () => {
  let stack: Awaited<ReturnType<typeof startResendAndSmtp>>;
  let resend: FakeResend;
  let smtp: FakeSmtp;
  let herald: Herald;
  let primaryId: string;
  let fallbackId: string;
  let campaignId: string;

  beforeAll(async () => {
    stack = await startResendAndSmtp('re_failover');
    ({ resend, smtp, herald } = stack);
    const created = await resendWithSmtpFallback(herald, smtp.port, { failureThreshold: 3, openSeconds: 60 });
    fallbackId = created.fallbackId;
    primaryId = created.primary.id;
    const primary = { body: created.primary };
    expect(primary.body).toMatchObject({
      fallback: [fallbackId],
      circuitBreaker: { failureThreshold: 3, openSeconds: 60 },
      circuit: 'closed',
      consecutiveFailures: 0,
    });
    campaignId = (await liveCampaign(herald, { channelConfigurationId: primaryId })).id;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('review refuses a fallback of another channel, an unknown one, and a cycle (400 naming each)', async () => {
    const sms = await herald.request('POST', '/v1/channel-configurations', { name: 'sms outbox', channel: 'sms', provider: 'outbox' });
    const bad = await herald.request('PATCH', `/v1/channel-configurations/${primaryId}`, { fallback: [sms.body.id, 'no-such-id'] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e: any) => e.field)).toEqual(['fallback.0', 'fallback.1']);
    const cycle = await herald.request('PATCH', `/v1/channel-configurations/${fallbackId}`, { fallback: [primaryId] });
    expect(cycle.status).toBe(400);
    expect(cycle.body.errors[0].message).toContain('cycle');
    // A configuration listed as a fallback cannot be deleted from under its primary.
    const remove = await herald.request('DELETE', `/v1/channel-configurations/${fallbackId}`);
    expect(remove.status).toBe(409);
  });

  it('Resend answering 500: the SMTP server receives exactly one copy, and the execution says so', async () => {
    const ada = freshAddress('ada');
    const bob = freshAddress('bob');
    resend.failNext([{ status: 500 }, { status: 500 }], {});
    const executionId = await triggerEmail(herald, campaignId, [ada, bob]);
    const execution = await herald.waitForExecution(executionId);
    for (const address of [ada, bob]) {
      expect(smtp.messagesTo(address)).toHaveLength(1);
      expect(resend.deliveriesTo(address)).toHaveLength(0);
      expect(outcomeOf(execution, address)).toMatchObject({ status: 'sent', configurationId: fallbackId, provider: 'smtp', failedOver: true });
    }
    const configuration = await herald.request('GET', `/v1/channel-configurations/${primaryId}`);
    expect(configuration.body).toMatchObject({ circuit: 'closed', consecutiveFailures: 2 });

    // Resend answers again: the next message goes through it, and the count starts over.
    const cleo = freshAddress('cleo');
    const next = await herald.waitForExecution(await triggerEmail(herald, campaignId, [cleo]));
    expect(outcomeOf(next, cleo)).toMatchObject({ status: 'sent', configurationId: primaryId, provider: 'resend', failedOver: false });
    expect((await herald.request('GET', `/v1/channel-configurations/${primaryId}`)).body).toMatchObject({ circuit: 'closed', consecutiveFailures: 0 });

    // The report splits sends by provider and counts the failovers.
    const report = await herald.request('GET', `/v1/campaigns/${campaignId}/report`);
    expect(report.status).toBe(200);
    expect(report.body.sentByProvider).toMatchObject({ smtp: 2, resend: 1 });
    expect(report.body.failovers).toEqual({ total: 2, byProvider: { smtp: 2 } });
  });

  it('after 3 failures (its threshold) the circuit opens and shows it; Resend is not called while it is open', async () => {
    resend.failNext([{ status: 503 }, { status: 503 }, { status: 503 }], {});
    const people = [freshAddress('d'), freshAddress('e'), freshAddress('f')];
    // One recipient a call, one after the other: each failure is counted before the next send.
    for (const person of people) await herald.waitForExecution(await triggerEmail(herald, campaignId, [person]));
    const open = await herald.request('GET', `/v1/channel-configurations/${primaryId}`);
    expect(open.body).toMatchObject({ circuit: 'open', consecutiveFailures: 3 });
    expect(Date.parse(open.body.openUntil)).toBeGreaterThan(Date.now());
    const callsWhenOpened = resend.requests.length;
    const later = freshAddress('g');
    const execution = await herald.waitForExecution(await triggerEmail(herald, campaignId, [later]));
    expect(outcomeOf(execution, later)).toMatchObject({ provider: 'smtp', failedOver: true });
    expect(resend.requests.length).toBe(callsWhenOpened);
    for (const person of [...people, later]) expect(smtp.messagesTo(person)).toHaveLength(1);
  });
});
