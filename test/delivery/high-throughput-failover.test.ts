/**
 * Failover on the high-throughput dispatch path (issue 23 with issue 22's chain, docs/failover.md):
 * a `throughput: high` campaign on a Resend configuration with an SMTP fallback. A block that
 * Resend cannot take goes message by message through the failover chain, and while Resend's
 * circuit is open the dispatcher does not call it at all. A real Herald (API, worker and its
 * dispatchers, the suite's database), the `resend` SDK against a fake Resend and nodemailer
 * against a real SMTP server, both on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign } from '../support/campaigns';
import type { FakeResend } from '../support/fake-resend';
import type { FakeSmtp } from '../support/fake-smtp';
import type { Herald } from '../support/herald-harness';
import { freshAddress, outcomeOf, resendWithSmtpFallback, startResendAndSmtp, triggerEmail } from './support/configured-email';

describe('high-throughput dispatch fails over from Resend to SMTP', () => {
  let stack: Awaited<ReturnType<typeof startResendAndSmtp>>;
  let resend: FakeResend;
  let smtp: FakeSmtp;
  let herald: Herald;
  let primaryId: string;
  let fallbackId: string;
  let campaignId: string;

  beforeAll(async () => {
    stack = await startResendAndSmtp('re_ht_failover');
    ({ resend, smtp, herald } = stack);
    const created = await resendWithSmtpFallback(herald, smtp.port, { failureThreshold: 3, openSeconds: 600 });
    fallbackId = created.fallbackId;
    primaryId = created.primary.id;
    campaignId = (
      await liveCampaign(herald, {
        channelConfigurationId: primaryId,
        throughput: 'high',
        content: { subject: 'Your code', html: '<p>Code {{ context.code }}</p>', text: 'Code {{ context.code }}' },
        audience: { namespace: 'email', createMissingProfiles: false },
      })
    ).id;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a block Resend answers 500 goes one by one through the chain: one copy each at the SMTP server, none at Resend', async () => {
    const people = [freshAddress('ht-ada'), freshAddress('ht-bob')];
    // The block, then each message's own try at Resend: all answered 500.
    resend.failNext([{ status: 500 }, { status: 500 }, { status: 500 }], {});
    const execution = await herald.waitForExecution(await triggerEmail(herald, campaignId, people));
    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 2 } });
    for (const person of people) {
      expect(smtp.messagesTo(person)).toHaveLength(1);
      expect(resend.deliveriesTo(person)).toHaveLength(0);
      expect(outcomeOf(execution, person)).toMatchObject({ status: 'sent', configurationId: fallbackId, provider: 'smtp', failedOver: true });
    }
  });

  it('with the circuit open, Resend is not called: the batch goes to the fallback message by message', async () => {
    // One more failure reaches the threshold of 3 (the two single tries above counted).
    resend.failNext([{ status: 503 }, { status: 503 }], {});
    const tipping = freshAddress('ht-cleo');
    await herald.waitForExecution(await triggerEmail(herald, campaignId, [tipping]));
    expect((await herald.request('GET', `/v1/channel-configurations/${primaryId}`)).body).toMatchObject({ circuit: 'open' });
    const calls = resend.requests.length;
    const later = [freshAddress('ht-dan'), freshAddress('ht-eve')];
    const execution = await herald.waitForExecution(await triggerEmail(herald, campaignId, later));
    expect(resend.requests.length).toBe(calls);
    for (const person of [tipping, ...later]) expect(smtp.messagesTo(person)).toHaveLength(1);
    for (const person of later) expect(outcomeOf(execution, person)).toMatchObject({ status: 'sent', provider: 'smtp', failedOver: true });
  });
});
