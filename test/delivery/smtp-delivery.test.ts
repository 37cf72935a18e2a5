import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyFor } from '../faults/support/triggers';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startFakeSmtp, type FakeSmtp } from '../support/fake-smtp';
import { startHerald, type Herald } from '../support/herald-harness';
import { freshAddress, liveEmailCampaignWith, outcomeOf, triggerEmail } from './support/configured-email';

/**
 * Email through an `smtp` channel configuration end to end: a real Herald (API, Temporal worker,
 * SQLite or PostgreSQL) speaks SMTP (nodemailer) to a real SMTP server (`smtp-server`) on a
 * loopback port, authenticating with the password its configuration names.
 */
describe('email delivery through SMTP', () => {
  let fake: FakeSmtp;
  let herald: Herald;
  let configurationId: string;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeSmtp({ username: 'acme', password: 'smtp-secret' });
    herald = await startHerald({
      env: {
        HERALD_SENDER_ENV: 'ACME_SMTP_PASSWORD',
        ACME_SMTP_PASSWORD: 'smtp-secret',
        // Marketing email gets its one-click unsubscribe headers, which must travel through SMTP too.
        HERALD_TRACKING_SECRET: 'smtp-delivery-test-tracking-secret-0123456789',
      },
    });
    ({ configurationId, campaignId } = await liveEmailCampaignWith(herald, {
      name: 'Acme SMTP',
      provider: 'smtp',
      settings: {
        host: fake.host,
        port: fake.port,
        secure: false,
        username: 'acme',
        passwordEnv: 'ACME_SMTP_PASSWORD',
        from: 'Acme <no-reply@acme.example>',
        replyTo: 'help@acme.example',
        headers: { 'X-Entity-Ref-ID': 'acme' },
      },
    }));
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  const trigger = (recipients: string[], context?: Record<string, unknown>) => triggerEmail(herald, campaignId, recipients, context);

  it('sends the rendered email as the configuration says, with a Message-ID and key receivers can deduplicate on', async () => {
    const ada = freshAddress('ada');
    expect((await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(ada)}`, { attributes: { firstName: 'Ada' } })).status).toBe(201);

    const executionId = await trigger([ada], { code: '4711' });
    const execution = await herald.waitForExecution(executionId);

    const key = keyFor(executionId, ada);
    const [message] = fake.messagesTo(ada);
    expect(fake.messages).toHaveLength(1);
    expect(message).toMatchObject({ mailFrom: 'no-reply@acme.example', rcptTo: [ada], user: 'acme' });
    expect(message!.headers).toMatchObject({
      subject: 'Hello Ada',
      'reply-to': 'help@acme.example',
      'x-entity-ref-id': 'acme',
      'message-id': `<${key}@acme.example>`,
      'x-herald-idempotency-key': key,
    });
    expect(message!.raw).toContain('<p>Hi Ada, your code is 4711</p>');
    expect(execution.status).toBe('completed');
    expect(outcomeOf(execution, ada)).toMatchObject({ status: 'sent', messageId: `<${key}@acme.example>` });
  });

  it('retries a 4xx reply (421, 451) until the server takes the message, and sends once', async () => {
    const bob = freshAddress('bob');
    fake.failNext([{ reply: 421, at: 'RCPT' }, { reply: 451 }], { to: bob });

    const executionId = await trigger([bob]);
    const execution = await herald.waitForExecution(executionId);

    expect(fake.attemptsTo(bob).map((attempt) => attempt.reply)).toEqual([421, 451, 250]);
    expect(fake.messagesTo(bob)).toHaveLength(1);
    expect(outcomeOf(execution, bob)).toMatchObject({ status: 'sent' });
  });

  it('fails a recipient the server refuses with 550 without retrying, and sends to the others', async () => {
    const gone = freshAddress('gone');
    const kept = freshAddress('kept');
    fake.rejectAddress(gone, 550, '5.1.1 No such user here');

    const executionId = await trigger([gone, kept]);
    const execution = await herald.waitForExecution(executionId);

    expect(fake.attemptsTo(gone).map((attempt) => attempt.reply)).toEqual([550]);
    expect(fake.messagesTo(gone)).toHaveLength(0);
    expect(outcomeOf(execution, gone)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^provider-rejected: SMTP 550 at RCPT TO: .*No such user/),
    });
    expect(fake.messagesTo(kept)).toHaveLength(1);
    expect(outcomeOf(execution, kept)).toMatchObject({ status: 'sent' });
  });

  it('sends a second copy after a lost answer, as documented: SMTP has no idempotency key', async () => {
    const cy = freshAddress('cy');
    fake.failNext([{ acceptThenDrop: true }], { to: cy });

    const executionId = await trigger([cy]);
    const execution = await herald.waitForExecution(executionId);

    // The server took the first copy, the connection dropped before its 250, and the retry sent it again.
    const key = keyFor(executionId, cy);
    const copies = fake.messagesTo(cy);
    expect(copies).toHaveLength(2);
    expect(copies.map((copy) => copy.headers['message-id'])).toEqual([`<${key}@acme.example>`, `<${key}@acme.example>`]);
    expect(copies.map((copy) => copy.headers['x-herald-idempotency-key'])).toEqual([key, key]);
    expect(outcomeOf(execution, cy)).toMatchObject({ status: 'sent', messageId: `<${key}@acme.example>` });
  });

  it('sends an audience run one by one: a refused member fails alone, a deferred one is retried, nobody gets two copies', async () => {
    const segment = `smtp-${randomUUID().slice(0, 8)}`;
    const members = Array.from({ length: 5 }, (_, i) => `${segment}-${i}@example.com`);
    for (const userId of members) {
      const res = await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(userId)}`, {
        attributes: { firstName: 'P', segment },
        consents: { email: 'in' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const audience = await herald.request('POST', '/v1/audiences', {
      name: `segment ${segment}`,
      namespace: 'email',
      definition: { type: 'rule', where: [{ attribute: 'segment', op: 'eq', value: segment }] },
    });
    expect(audience.status, JSON.stringify(audience.body)).toBe(201);
    const marketing = await liveCampaign(herald, { name: 'SMTP newsletter', type: 'marketing', channelConfigurationId: configurationId });
    const [refused, deferred] = [members[1]!, members[3]!];
    fake.rejectAddress(refused, 550);
    fake.failNext([{ reply: 451 }], { to: deferred });

    const run = await herald.request('POST', '/v1/executions/audience', {
      requestId: uniqueRequestId('smtp-audience'),
      campaignId: marketing.id,
      audience: { id: audience.body.id },
      context: { code: '9' },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const execution = await herald.waitForExecution(run.body.executionId, 60_000);

    expect(execution).toMatchObject({ status: 'completed', counts: { sent: 4, failed: 1, pending: 0 } });
    for (const member of members.filter((m) => m !== refused)) expect(fake.messagesTo(member), member).toHaveLength(1);
    expect(fake.messagesTo(refused)).toHaveLength(0);
    expect(fake.attemptsTo(deferred).map((attempt) => attempt.reply)).toEqual([451, 250]);
    // Marketing email carries its one-click unsubscribe headers through SMTP too.
    expect(fake.messagesTo(members[0]!)[0]!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });
});
