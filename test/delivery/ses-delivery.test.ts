import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyFor } from '../faults/support/triggers';
import { startFakeSes, type FakeSes } from '../support/fake-ses';
import { startHerald, type Herald } from '../support/herald-harness';
import { freshAddress, liveEmailCampaignWith, outcomeOf, triggerEmail } from './support/configured-email';

/**
 * Email through an `ses` channel configuration end to end: a real Herald (API, Temporal worker,
 * SQLite or PostgreSQL) sends through the official `@aws-sdk/client-sesv2`, signed with the keys
 * its configuration names, to a fake SES v2 API on a loopback port (the configuration's `endpoint`).
 */
describe('email delivery through Amazon SES', () => {
  let fake: FakeSes;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeSes();
    herald = await startHerald({
      env: { HERALD_SENDER_ENV: 'ACME_SES_KEY_ID,ACME_SES_SECRET', ACME_SES_KEY_ID: fake.accessKeyId, ACME_SES_SECRET: fake.secretAccessKey },
    });
    ({ campaignId } = await liveEmailCampaignWith(herald, {
      name: 'Acme SES',
      provider: 'ses',
      settings: {
        region: fake.region,
        accessKeyIdEnv: 'ACME_SES_KEY_ID',
        secretAccessKeyEnv: 'ACME_SES_SECRET',
        configurationSet: 'acme-transactional',
        from: 'Acme <no-reply@acme.example>',
        headers: { 'X-Entity-Ref-ID': 'acme' },
        endpoint: fake.url,
      },
    }));
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  const trigger = (recipients: string[], context?: Record<string, unknown>) => triggerEmail(herald, campaignId, recipients, context);

  it('sends the rendered email through SES v2 and records the SES MessageId', async () => {
    const ada = freshAddress('ada');
    expect((await herald.request('PUT', `/v1/profiles/email/${encodeURIComponent(ada)}`, { attributes: { firstName: 'Ada' } })).status).toBe(201);

    const executionId = await trigger([ada], { code: '4711' });
    const execution = await herald.waitForExecution(executionId);

    expect(fake.messages).toHaveLength(1);
    const [message] = fake.messages;
    expect(message).toMatchObject({
      from: 'Acme <no-reply@acme.example>',
      to: [ada],
      subject: 'Hello Ada',
      html: '<p>Hi Ada, your code is 4711</p>',
      text: 'Code 4711',
      configurationSet: 'acme-transactional',
      headers: { 'X-Entity-Ref-ID': 'acme', 'X-Herald-Idempotency-Key': keyFor(executionId, ada) },
    });
    expect(message!.tags).toEqual(expect.arrayContaining([{ Name: 'campaign_id', Value: campaignId }]));
    expect(fake.requests[0]!.headers.authorization).toContain(`Credential=${fake.accessKeyId}/`);
    expect(execution.status).toBe('completed');
    expect(outcomeOf(execution, ada)).toMatchObject({ status: 'sent', messageId: message!.messageId });
  });

  it('retries 429 (honouring Retry-After) and 500 until SES accepts, and sends once', async () => {
    const bob = freshAddress('bob');
    const retryAfterSeconds = 2;
    fake.failNext([{ status: 429, retryAfterSeconds }, { status: 500 }], { to: bob });

    const executionId = await trigger([bob]);
    const execution = await herald.waitForExecution(executionId);

    const attempts = fake.requestsTo(bob);
    expect(attempts.map((request) => request.status)).toEqual([429, 500, 200]);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    expect(fake.messagesTo(bob)).toHaveLength(1);
    expect(outcomeOf(execution, bob)).toMatchObject({ status: 'sent', messageId: fake.messagesTo(bob)[0]!.messageId });
  });

  it('fails a recipient SES rejects (400 MessageRejected) without retrying', async () => {
    const bad = freshAddress('bad');
    fake.rejectAddress(bad);

    const executionId = await trigger([bad]);
    const execution = await herald.waitForExecution(executionId);

    expect(fake.requestsTo(bad).map((request) => request.status)).toEqual([400]);
    expect(outcomeOf(execution, bad)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^provider-rejected: SES 400 MessageRejected/) });
    expect(execution.status).toBe('completed');
  });

  it('sends a second copy after a lost answer, as documented: SES has no idempotency key', async () => {
    const cy = freshAddress('cy');
    fake.failNext([{ acceptThenDrop: true }], { to: cy });

    const executionId = await trigger([cy]);
    const execution = await herald.waitForExecution(executionId);

    const copies = fake.messagesTo(cy);
    expect(copies).toHaveLength(2);
    expect(copies.map((copy) => copy.headers['X-Herald-Idempotency-Key'])).toEqual([keyFor(executionId, cy), keyFor(executionId, cy)]);
    // The delivery records the copy whose answer arrived.
    expect(outcomeOf(execution, cy)).toMatchObject({ status: 'sent', messageId: copies[1]!.messageId });
  });
});
