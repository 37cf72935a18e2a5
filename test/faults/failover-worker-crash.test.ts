import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startFakeSmtp, type FakeSmtp, type FakeSmtpMessage } from '../support/fake-smtp';
import { startProcessStack, waitFor, type ProcessStack } from '../support/process-stack';
import { createLiveCampaign, keyFor, planTriggers, triggerWithRetry, type AcceptedTrigger } from './support/triggers';

/**
 * Provider failover (docs/failover.md) through a worker killed with SIGKILL (no shutdown, no
 * completions reported) while its SMTP sends are in flight, then started again. Resend answers 500
 * to everything, so every message fails over to a real SMTP server on loopback; worker and API
 * are real child processes. The one duplicate allowed is the documented lost answer: a message the
 * SMTP server took whose `250` the dead worker never heard, sent again after the restart.
 */
describe('worker killed with SIGKILL while failover sends are in flight', () => {
  let resend: FakeResend;
  let smtp: FakeSmtp;
  let stack: ProcessStack;
  let fallbackId: string;
  let campaignId: string;

  beforeAll(async () => {
    resend = await startFakeResend({ apiKey: 're_failover_crash' });
    smtp = await startFakeSmtp();
    stack = await startProcessStack({
      temporalAddress: inject('temporalAddress'),
      env: {
        HERALD_SENDER_ENV: 'ACME_RESEND_KEY',
        HERALD_SENDER_ENV_PRESENT: 'ACME_RESEND_KEY',
        ACME_RESEND_KEY: resend.apiKey,
        RESEND_BASE_URL: resend.url,
        // Longer than the test holds an SMTP answer before the kill: no send gives up by itself, so
        // every lost answer is one the SIGKILL caused.
        PROVIDER_TIMEOUT_MS: '25000',
      },
    });
    const configure = async (configuration: Record<string, unknown>) => {
      const created = await stack.request('POST', '/v1/channel-configurations', { channel: 'email', ...configuration });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body;
    };
    const from = 'Acme <no-reply@acme.example>';
    fallbackId = (await configure({ name: 'Backup SMTP relay', provider: 'smtp', settings: { host: smtp.host, port: smtp.port, secure: false, from } })).id;
    // A circuit that never opens here: every message tries Resend first and fails over, instead of
    // going straight to the relay once the breaker has seen enough failures.
    const circuitBreaker = { failureThreshold: 1000, openSeconds: 30 };
    const primary = await configure({
      name: 'Resend',
      provider: 'resend',
      settings: { from, apiKeyEnv: 'ACME_RESEND_KEY' },
      fallback: [fallbackId],
      circuitBreaker,
    });
    expect(primary).toMatchObject({ fallback: [fallbackId], missingEnv: [] });
    campaignId = await createLiveCampaign(stack.request, { channelConfigurationId: primary.id });
  });
  afterAll(async () => {
    await stack?.stop();
    await smtp?.close();
    await resend?.close();
  });

  it('after a restart every message arrived over SMTP, and only those in flight at the kill arrived twice', async () => {
    const planned = planTriggers(campaignId, 'failover-crash', 30, 3); // 60 messages
    const [before, during, outage] = [planned.slice(0, 5), planned.slice(5, 17), planned.slice(17)];
    // Resend is down for every message of the run.
    for (const { userId } of planned.flatMap((t) => t.recipients)) resend.rejectAddress(userId, 500, 'An unexpected error occurred.');

    // Sent, answered and recorded before anything goes wrong: none of these may arrive twice.
    const accepted: AcceptedTrigger[] = await Promise.all(before.map((t) => triggerWithRetry(stack.baseUrl, t)));
    for (const { executionId } of accepted) await stack.waitForExecution(executionId, 30_000);
    const sentBeforeHold = smtp.messages.length;

    // The relay takes each message but holds its answer: sends in flight on the worker.
    smtp.holdAnswers(true);
    const holdStartedAt = Date.now();
    accepted.push(...(await Promise.all(during.map((t) => triggerWithRetry(stack.baseUrl, t)))));
    await waitFor('SMTP sends in flight on the worker', () => smtp.heldCount() >= 10, 20_000);

    await stack.worker.kill('SIGKILL');
    const killedAt = Date.now();
    // The API keeps accepting while no worker runs.
    accepted.push(...(await Promise.all(outage.map((t) => triggerWithRetry(stack.baseUrl, t)))));
    // In flight at the kill: every message taken since the hold. Nothing was answered before the
    // release, which comes after the kill, so no worker ever learnt that any of them was sent.
    const inFlightAtKill = smtp.messages.slice(sentBeforeHold);
    expect(smtp.heldCount()).toBe(inFlightAtKill.length);
    smtp.releaseHeld();
    await stack.worker.start();

    const executions = new Map<string, any>();
    // Workflow tasks that were running on the dead worker are handed to the new one after their timeout.
    for (const { executionId } of accepted) executions.set(executionId, await stack.waitForExecution(executionId, 90_000));

    const recipients = accepted.flatMap(({ executionId, trigger }) => trigger.recipients.map(({ userId }) => ({ executionId, userId })));
    const inFlightAddresses = new Set(inFlightAtKill.flatMap((m) => m.rcptTo));
    const copies = (userId: string): FakeSmtpMessage[] => smtp.messagesTo(userId);
    const twice = recipients.filter(({ userId }) => copies(userId).length > 1).map(({ userId }) => userId);
    console.info(
      `[failover-worker-crash] ${sentBeforeHold} messages sent over SMTP before the hold, ${inFlightAtKill.length} in flight (taken, answer held) at the SIGKILL ${killedAt - holdStartedAt} ms into the hold, ${twice.length} delivered twice; ${resend.requests.length} Resend requests (${resend.deliveries.length} accepted), ${smtp.messages.length} SMTP messages for ${recipients.length} recipients`,
    );

    expect(recipients).toHaveLength(60);
    // The crash really was mid-batch: some messages were sent before it, some in flight, most later.
    expect(sentBeforeHold).toBeGreaterThan(0);
    expect(inFlightAtKill.length).toBeGreaterThanOrEqual(10);
    expect(inFlightAtKill.length).toBeLessThan(recipients.length - sentBeforeHold);
    // No held send reached the worker's PROVIDER_TIMEOUT_MS before the kill: the kill lost those answers.
    expect(killedAt - holdStartedAt).toBeLessThan(25_000);
    // Every message arrived, one per recipient, and nothing for anyone else.
    const expectedAddresses = new Set(recipients.map(({ userId }) => userId));
    for (const message of smtp.messages) expect(message.rcptTo.length === 1 && expectedAddresses.has(message.rcptTo[0]!), message.rcptTo.join()).toBe(true);
    for (const { userId } of recipients) expect(copies(userId).length, userId).toBeGreaterThanOrEqual(1);
    // The only second copies are lost answers of the kill, and a lost answer costs one copy at most.
    for (const userId of twice) {
      expect(inFlightAddresses.has(userId), `${userId} arrived twice but was not in flight at the kill`).toBe(true);
      expect(copies(userId), userId).toHaveLength(2);
    }

    // Every message failed over: Resend was asked first and refused each one with a 500.
    expect(resend.deliveries).toEqual([]);
    expect(resend.requests.every((request) => request.status === 500)).toBe(true);
    for (const { executionId, userId } of recipients) {
      expect(resend.requestsFor(keyFor(executionId, userId)).length, userId).toBeGreaterThanOrEqual(1);
      const execution = executions.get(executionId);
      expect(execution?.status, `execution ${executionId}`).toBe('completed');
      // Each copy is the same message: the Message-ID Herald recorded for this recipient.
      const recorded = execution.recipients.find((r: any) => r.userId === userId);
      expect(recorded, `${executionId} ${userId}`).toMatchObject({ status: 'sent', configurationId: fallbackId, provider: 'smtp', failedOver: true });
      for (const copy of copies(userId)) expect(copy.headers['message-id'], userId).toBe(recorded.messageId);
    }

    expect(stack.worker.starts).toBe(2);
    expect(stack.worker.unexpectedExits(), stack.worker.output()).toEqual([]);
    expect(stack.api.unexpectedExits(), stack.api.output()).toEqual([]);
  }, 150_000);
});
