/**
 * Failover and the circuit breaker over real HTTP and SMTP (issue 22): the send activity of a
 * worker (activities/send-message.ts with activities/provider-failover.ts), on a real SQLite
 * database, sends through the official `resend` SDK to a fake Resend on loopback and through
 * nodemailer to a real SMTP server (smtp-server) on loopback. The breaker's clock is the test's,
 * so "30 s later" is a moved clock, not a wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerFailover } from '../../activities/provider-failover';
import { sendMessageActivities } from '../../activities/send-message';
import { emailSenders } from '../../src/channels/email/email-senders';
import { OutboxEmailProvider } from '../../src/channels/email/outbox-provider';
import { openMigratedDatabase, type HeraldDb } from '../../src/db/database';
import { ChannelConfigurationRepository } from '../../src/repositories/channel-configurations';
import { DeliveryRepository } from '../../src/repositories/deliveries';
import { FeedbackEventRepository, forgetEndpointCheck } from '../../src/repositories/feedback-events';
import { OutboxRepository } from '../../src/repositories/outbox';
import { ProviderCircuitRepository } from '../../src/repositories/provider-circuits';
import { startFakeResend, type FakeResend } from '../support/fake-resend';
import { startFakeSmtp, type FakeSmtp } from '../support/fake-smtp';

describe('provider failover and the circuit breaker', () => {
  let dir: string;
  let db: HeraldDb;
  let resend: FakeResend;
  let smtp: FakeSmtp;
  let clock = Date.parse('2026-12-07T12:00:00.000Z');
  let primaryId: string;
  let fallbackId: string;
  let send: ReturnType<typeof sendMessageActivities>;
  let messages = 0;
  const circuits = () => new ProviderCircuitRepository(db);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-failover-'));
    db = await openMigratedDatabase(join(dir, 'herald.db'));
    resend = await startFakeResend({ apiKey: 're_failover' });
    smtp = await startFakeSmtp();
    const configurations = new ChannelConfigurationRepository(db);
    fallbackId = (
      await configurations.create({
        name: 'backup smtp',
        channel: 'email',
        provider: 'smtp',
        settings: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'Acme <no-reply@acme.example>' },
      })
    ).id;
    primaryId = (
      await configurations.create({
        name: 'resend',
        channel: 'email',
        provider: 'resend',
        settings: { from: 'Acme <no-reply@acme.example>', apiKeyEnv: 'RESEND_API_KEY' },
        fallback: [fallbackId],
      })
    ).id;
    const now = new Date().toISOString();
    await db
      .insertInto('campaigns')
      .values({
        id: 'cmp-failover',
        name: 'failover',
        description: null,
        tags: '[]',
        type: 'transactional',
        channel: 'email',
        content: '{}',
        audience: '{}',
        start_at: null,
        end_at: null,
        status: 'live',
        version: 1,
        created_at: now,
        updated_at: now,
        activated_at: now,
        channel_configuration_id: primaryId,
      })
      .execute();
    // A webhook endpoint, so circuit changes are recorded as feedback events.
    await db
      .insertInto('webhook_endpoints')
      .values({
        id: 'wh1',
        url: 'https://hooks.example/x',
        events: '["provider.circuit-opened","provider.circuit-closed"]',
        campaign_ids: null,
        secret: 'sealed',
        status: 'enabled',
        disabled_reason: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    forgetEndpointCheck();
    const outbox = new OutboxRepository(db);
    const senderFor = emailSenders({
      configurations,
      outbox,
      defaultProvider: new OutboxEmailProvider(outbox),
      defaultFrom: 'herald@localhost.localdomain',
      email: { resendBaseUrl: resend.url, providerTimeoutMs: 500 },
      sender: { envNames: ['RESEND_API_KEY'], secrets: { RESEND_API_KEY: 're_failover' } } as never,
    });
    const failover = providerFailover({ configurations, circuits: circuits(), feedback: new FeedbackEventRepository(db), now: () => new Date(clock) });
    send = sendMessageActivities({
      deliveries: new DeliveryRepository(db),
      emailProvider: new OutboxEmailProvider(outbox),
      emailFrom: 'herald@localhost.localdomain',
      emailSenderFor: senderFor,
      sendWithFailover: failover.sendWithFailover,
    });
  });

  afterAll(async () => {
    await resend?.close();
    await smtp?.close();
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    resend.reset();
    smtp.reset();
  });

  /** One prepared email, pending, as the preparation leaves it; answers its execution id and address. */
  async function prepared(): Promise<{ executionId: string; to: string }> {
    const n = ++messages;
    const executionId = `exe-failover-${n}`;
    const to = `person-${n}@example.com`;
    const now = new Date().toISOString();
    await db
      .insertInto('executions')
      .values({
        id: executionId,
        request_id: executionId,
        request_hash: executionId,
        campaign_id: 'cmp-failover',
        campaign_version: 1,
        workflow_id: `execution/cmp-failover/${executionId}`,
        status: 'running',
        failure_reason: null,
        created_at: now,
        completed_at: null,
        workflow_checked_at: null,
        context: null,
        started_by_key_id: null,
        details_purged_at: null,
      })
      .execute();
    await db
      .insertInto('deliveries')
      .values({
        execution_id: executionId,
        user_id: to,
        position: 0,
        namespace: 'email',
        channel: 'email',
        status: 'pending',
        reason: null,
        address: to,
        message_id: null,
        updated_at: now,
        context: null,
        channel_data: null,
      })
      .execute();
    await db
      .insertInto('rendered_messages')
      .values({
        execution_id: executionId,
        position: 0,
        channel: 'email',
        subject: `Order ${n}`,
        html: `<p>Order ${n}</p>`,
        text: `Order ${n}`,
        created_at: now,
      })
      .execute();
    return { executionId, to };
  }

  const deliveryOf = (executionId: string) =>
    db
      .selectFrom('deliveries')
      .select(['status', 'configuration_id', 'provider', 'failed_over', 'reason'])
      .where('execution_id', '=', executionId)
      .executeTakeFirstOrThrow();
  const circuitEvents = () =>
    db
      .selectFrom('feedback_events')
      .select(['type', 'execution_id', 'detail'])
      .where('type', 'like', 'provider.%' as never)
      .orderBy('id')
      .execute();

  it('sends through the primary while it answers, and records which configuration sent', async () => {
    const { executionId, to } = await prepared();
    await send.sendMessage({ executionId, position: 0 });
    expect(resend.deliveriesTo(to)).toHaveLength(1);
    expect(smtp.messagesTo(to)).toHaveLength(0);
    expect(await deliveryOf(executionId)).toMatchObject({ status: 'sent', configuration_id: primaryId, provider: 'resend', failed_over: 0 });
  });

  it('Resend answering 500: the SMTP server receives exactly one copy of each message, marked failed over', async () => {
    resend.failNext(Array.from({ length: 3 }, () => ({ status: 500 })));
    const sent: { executionId: string; to: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const message = await prepared();
      await send.sendMessage({ executionId: message.executionId, position: 0 });
      // A retried activity finds the message sent and sends nothing again.
      await send.sendMessage({ executionId: message.executionId, position: 0 });
      sent.push(message);
    }
    for (const { executionId, to } of sent) {
      expect(smtp.messagesTo(to)).toHaveLength(1);
      expect(resend.deliveriesTo(to)).toHaveLength(0);
      expect(await deliveryOf(executionId)).toMatchObject({ status: 'sent', configuration_id: fallbackId, provider: 'smtp', failed_over: 1 });
    }
    expect((await circuits().view(primaryId, new Date(clock))).consecutiveFailures).toBe(3);
  });

  it('a Resend that never answers (a timeout) fails over too', async () => {
    resend.failNext([{ hold: true }]);
    const { executionId, to } = await prepared();
    await send.sendMessage({ executionId, position: 0 });
    expect(smtp.messagesTo(to)).toHaveLength(1);
    expect(await deliveryOf(executionId)).toMatchObject({ status: 'sent', provider: 'smtp', failed_over: 1 });
  });

  it('a permanent refusal does not fail over', async () => {
    const { executionId, to } = await prepared();
    resend.rejectAddress(to, 422, 'Invalid `to` field.');
    await expect(send.sendMessage({ executionId, position: 0 })).rejects.toMatchObject({ type: 'ProviderRejected' });
    expect(smtp.messagesTo(to)).toHaveLength(0);
    expect(await deliveryOf(executionId)).toMatchObject({ status: 'failed' });
  });

  it('after 5 failures the circuit opens: Resend sees no call for 30 s; after it, one trial send closes it', async () => {
    // The refusal just above was an answer: the count starts again from zero.
    expect((await circuits().view(primaryId, new Date(clock))).consecutiveFailures).toBe(0);
    resend.failNext(Array.from({ length: 5 }, () => ({ status: 503 })));
    for (let i = 0; i < 5; i++) {
      const { executionId } = await prepared();
      await send.sendMessage({ executionId, position: 0 });
    }
    expect(resend.requests).toHaveLength(5);
    expect(await circuits().view(primaryId, new Date(clock))).toMatchObject({ circuit: 'open', consecutiveFailures: 5 });
    const opened = await circuitEvents();
    expect(opened.map((e) => e.type)).toEqual(['provider.circuit-opened']);
    expect(JSON.parse(opened[0]!.detail!)).toEqual({ configurationId: primaryId, provider: 'resend' });

    // For the next 30 s (29.9 of them here) every message goes straight to SMTP; Resend is not called.
    // The clock moves 1 s, then to 15 s, then to 29.9 s after the opening.
    for (const step of [1_000, 14_000, 14_900]) {
      clock += step;
      const { executionId, to } = await prepared();
      await send.sendMessage({ executionId, position: 0 });
      expect(smtp.messagesTo(to)).toHaveLength(1);
    }
    expect(resend.requests).toHaveLength(5);

    // 30 s after it opened (30.1 s): half-open, and the next message is the one trial. Resend has recovered.
    clock += 200;
    expect((await circuits().view(primaryId, new Date(clock))).circuit).toBe('half-open');
    const trial = await prepared();
    await send.sendMessage({ executionId: trial.executionId, position: 0 });
    expect(resend.deliveriesTo(trial.to)).toHaveLength(1);
    expect(await circuits().view(primaryId, new Date(clock))).toMatchObject({ circuit: 'closed', consecutiveFailures: 0 });
    expect((await circuitEvents()).map((e) => e.type)).toEqual(['provider.circuit-opened', 'provider.circuit-closed']);

    // Traffic is back on Resend.
    const after = await prepared();
    await send.sendMessage({ executionId: after.executionId, position: 0 });
    expect(resend.deliveriesTo(after.to)).toHaveLength(1);
    expect(await deliveryOf(after.executionId)).toMatchObject({ provider: 'resend', failed_over: 0 });
  });

  it('a failed trial reopens the circuit for another open time', async () => {
    const reopenAt = async () => {
      resend.failNext(Array.from({ length: 5 }, () => ({ status: 500 })));
      for (let i = 0; i < 5; i++) await send.sendMessage({ executionId: (await prepared()).executionId, position: 0 });
    };
    await reopenAt();
    expect((await circuits().view(primaryId, new Date(clock))).circuit).toBe('open');
    clock += 30_000;
    resend.failNext([{ status: 502 }]);
    const trial = await prepared();
    await send.sendMessage({ executionId: trial.executionId, position: 0 });
    // The trial failed and went to SMTP; the circuit is open again, for 30 s from now.
    expect(smtp.messagesTo(trial.to)).toHaveLength(1);
    const view = await circuits().view(primaryId, new Date(clock));
    expect(view.circuit).toBe('open');
    expect(view.openUntil).toBe(new Date(clock + 30_000).toISOString());
    clock += 30_000;
    await send.sendMessage({ executionId: (await prepared()).executionId, position: 0 });
    expect((await circuits().view(primaryId, new Date(clock))).circuit).toBe('closed');
  });

  it('with every configuration failing, the message waits for the retry, sent nowhere', async () => {
    resend.failNext([{ status: 500 }]);
    smtp.failNext([{ reply: 421 }]);
    const { executionId, to } = await prepared();
    await expect(send.sendMessage({ executionId, position: 0 })).rejects.toMatchObject({ type: 'ProviderUnavailable' });
    expect(await deliveryOf(executionId)).toMatchObject({ status: 'pending' });
    // The retry: both answer again, and the primary takes it.
    await send.sendMessage({ executionId, position: 0 });
    expect(resend.deliveriesTo(to)).toHaveLength(1);
    expect(smtp.messagesTo(to)).toHaveLength(0);
  });

  it('a short Retry-After is waited out on the primary, not failed over', async () => {
    resend.failNext([{ status: 429, retryAfterSeconds: 2 }]);
    const { executionId, to } = await prepared();
    await expect(send.sendMessage({ executionId, position: 0 })).rejects.toMatchObject({ type: 'ProviderUnavailable', nextRetryDelay: expect.anything() });
    expect(smtp.messagesTo(to)).toHaveLength(0);
    await send.sendMessage({ executionId, position: 0 });
    expect(resend.deliveriesTo(to)).toHaveLength(1);
  });
});
