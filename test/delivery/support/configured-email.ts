import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { liveCampaign, uniqueRequestId } from '../../support/campaigns';
import { startFakeResend, type FakeResend } from '../../support/fake-resend';
import { startFakeSmtp, type FakeSmtp } from '../../support/fake-smtp';
import { startHerald, type Herald } from '../../support/herald-harness';

/** Creates an email channel configuration over HTTP and a live campaign that uses it. */
export async function liveEmailCampaignWith(
  herald: Herald,
  configuration: { name: string; provider: string; settings: Record<string, unknown> },
): Promise<{ configurationId: string; campaignId: string }> {
  const created = await herald.request('POST', '/v1/channel-configurations', { channel: 'email', ...configuration });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body).toMatchObject({ provider: configuration.provider, missingEnv: [] });
  const campaign = await liveCampaign(herald, { channelConfigurationId: created.body.id });
  return { configurationId: created.body.id as string, campaignId: campaign.id as string };
}

/** A fresh address per test, so the fakes' records tell the tests apart. */
export const freshAddress = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

/** One recipient's outcome in an execution's status. */
export const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);

/** Triggers the campaign for these email addresses and returns the execution id, failing the test unless it is accepted. */
export async function triggerEmail(
  herald: Herald,
  campaignId: string,
  recipients: string[],
  context: Record<string, unknown> = { code: '1' },
): Promise<string> {
  const res = await herald.request('POST', '/v1/executions/unitary', {
    requestId: uniqueRequestId('email'),
    campaignId,
    recipients: recipients.map((userId) => ({ userId, namespace: 'email' })),
    context,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.executionId as string;
}

/**
 * A Resend configuration (its key in ACME_RESEND_KEY) with an SMTP fallback on `smtpPort`, created
 * over HTTP as a user sets up failover (docs/failover.md). Answers both created configurations.
 */
export async function resendWithSmtpFallback(
  herald: Herald,
  smtpPort: number,
  circuitBreaker: { failureThreshold: number; openSeconds: number },
): Promise<{ primary: any; fallbackId: string }> {
  const fallback = await herald.request('POST', '/v1/channel-configurations', {
    name: 'Backup SMTP relay',
    channel: 'email',
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: smtpPort, secure: false, from: 'Acme <no-reply@acme.example>' },
  });
  expect(fallback.status, JSON.stringify(fallback.body)).toBe(201);
  const primary = await herald.request('POST', '/v1/channel-configurations', {
    name: 'Resend',
    channel: 'email',
    provider: 'resend',
    settings: { from: 'Acme <no-reply@acme.example>', apiKeyEnv: 'ACME_RESEND_KEY' },
    fallback: [fallback.body.id],
    circuitBreaker,
  });
  expect(primary.status, JSON.stringify(primary.body)).toBe(201);
  return { primary: primary.body, fallbackId: fallback.body.id as string };
}

/** A fake Resend (key in ACME_RESEND_KEY) and a real SMTP server on loopback, and a Herald that may use both. */
export async function startResendAndSmtp(apiKey: string): Promise<{ resend: FakeResend; smtp: FakeSmtp; herald: Herald; stop(): Promise<void> }> {
  const resend = await startFakeResend({ apiKey });
  const smtp = await startFakeSmtp();
  const herald = await startHerald({
    env: { HERALD_SENDER_ENV: 'ACME_RESEND_KEY', ACME_RESEND_KEY: apiKey, RESEND_BASE_URL: resend.url, HERALD_SENDER_ENV_PRESENT: 'ACME_RESEND_KEY' },
  });
  return {
    resend,
    smtp,
    herald,
    async stop() {
      await herald.stop();
      await resend.close();
      await smtp.close();
    },
  };
}
