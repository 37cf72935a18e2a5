import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'svix';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveCampaign, uniqueRequestId } from '../support/campaigns';
import { startHerald, type Herald } from '../support/herald-harness';

const RESEND_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TWILIO_AUTH_TOKEN = 'twilio-test-auth-token-feedback-0123456789';
/** Behind a proxy with a path prefix: Twilio signs this URL; the test reaches the API directly. */
const PUBLIC_URL = 'https://hooks.example.test/herald';
const TWILIO_STATUS_URL = `${PUBLIC_URL}/webhooks/twilio`;

let numberCounter = 0;
/** A fresh valid US number per use (415-555-3xxx passes libphonenumber's plan). */
const nextNumber = () => `+1415555${String(3000 + (++numberCounter % 1000)).padStart(4, '0')}`;

/**
 * Provider events in, over real HTTP against a real Herald (API, Temporal worker, the suite's
 * database): Resend events signed with svix's own Webhook.sign, Twilio status callbacks signed
 * with the twilio SDK's own algorithm, and forged, unsigned and replayed calls.
 */
describe('provider events in', () => {
  let herald: Herald;
  let emailCampaignId: string;
  let smsCampaignId: string;

  beforeAll(async () => {
    herald = await startHerald({ env: { RESEND_WEBHOOK_SECRET: RESEND_SECRET, TWILIO_AUTH_TOKEN, HERALD_PUBLIC_URL: PUBLIC_URL } });
    emailCampaignId = (await liveCampaign(herald)).id;
    const sms = await herald.request('POST', '/v1/campaigns', {
      name: 'OTP by SMS',
      type: 'transactional',
      channel: 'sms',
      content: { body: 'Your code is {{ context.code }}' },
      audience: { namespace: 'phone', createMissingProfiles: true },
    });
    expect(sms.status, JSON.stringify(sms.body)).toBe(201);
    expect((await herald.request('POST', `/v1/campaigns/${sms.body.id}/activate`)).status).toBe(200);
    smsCampaignId = sms.body.id;
  });
  afterAll(() => herald?.stop());

  /** Sends one message and returns its delivery: execution, position 0, the provider's message id. */
  async function send(campaignId: string, userId: string, namespace: 'email' | 'phone') {
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('fb'),
      campaignId,
      recipients: [{ userId, namespace }],
      context: { code: '42' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(execution.recipients[0], JSON.stringify(execution)).toMatchObject({ status: 'sent' });
    const row = await herald.db.selectFrom('deliveries').select(['message_id']).where('execution_id', '=', res.body.executionId).executeTakeFirstOrThrow();
    return { executionId: res.body.executionId as string, messageId: row.message_id! };
  }

  const delivery = (executionId: string) =>
    herald.db
      .selectFrom('deliveries')
      .select(['feedback', 'bounce_type', 'feedback_at', 'status'])
      .where('execution_id', '=', executionId)
      .executeTakeFirstOrThrow();
  const events = (executionId: string) =>
    herald.db
      .selectFrom('delivery_events')
      .select(['type', 'detail', 'provider_event_id', 'occurred_at', 'user_agent'])
      .where('execution_id', '=', executionId)
      .orderBy('occurred_at')
      .execute();
  const suppressed = async (channel: 'email' | 'sms' | 'push', address: string) =>
    (await herald.db.selectFrom('suppressions').selectAll().where('channel', '=', channel).where('address', '=', address).executeTakeFirst()) ?? null;

  function resendBody(type: string, emailId: string, data: Record<string, unknown> = {}, createdAt = new Date().toISOString()) {
    return JSON.stringify({
      type,
      created_at: createdAt,
      data: { email_id: emailId, created_at: createdAt, from: 'Acme <a@example.com>', to: ['x@example.com'], subject: 'Hi', ...data },
    });
  }

  /** Posts a Resend event signed with `secret` (svix's own signing), or with the headers given. */
  function postResend(body: string, options: { id?: string; secret?: string; headers?: Record<string, string> } = {}) {
    const id = options.id ?? `msg_${randomUUID()}`;
    const now = new Date();
    const headers = options.headers ?? {
      'svix-id': id,
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': new Webhook(options.secret ?? RESEND_SECRET).sign(id, now, body),
    };
    return herald.request('POST', '/webhooks/resend', body, headers);
  }

  function postTwilio(params: Record<string, string>, signature = getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, TWILIO_STATUS_URL, params)) {
    return herald.request('POST', '/webhooks/twilio', new URLSearchParams(params).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    });
  }

  it('moves an email from delivered to a hard bounce, stores each event with its time and raw reason, and suppresses the address (normalised)', async () => {
    const address = `Bounce-${randomUUID().slice(0, 8)}@Example.com`;
    const { executionId, messageId } = await send(emailCampaignId, address, 'email');

    const delivered = await postResend(resendBody('email.delivered', messageId, {}, '2030-01-01T10:00:00.000Z'));
    expect(delivered.status, JSON.stringify(delivered.body)).toBe(200);
    expect(delivered.body).toEqual({ outcome: 'recorded' });
    expect(await delivery(executionId)).toMatchObject({ status: 'sent', feedback: 'delivered', bounce_type: null, feedback_at: '2030-01-01T10:00:00.000Z' });

    const bounce = { type: 'Permanent', subType: 'General', message: '550 5.1.1 The email account that you tried to reach does not exist.' };
    const bounced = await postResend(resendBody('email.bounced', messageId, { bounce }, '2030-01-01T10:00:05.000Z'), { id: 'msg_bounce_1' });
    expect(bounced.status, JSON.stringify(bounced.body)).toBe(200);
    expect(await delivery(executionId)).toMatchObject({ feedback: 'bounced', bounce_type: 'hard', feedback_at: '2030-01-01T10:00:05.000Z' });
    expect(await events(executionId)).toEqual([
      expect.objectContaining({ type: 'delivered', occurred_at: '2030-01-01T10:00:00.000Z', detail: null }),
      {
        type: 'bounced',
        occurred_at: '2030-01-01T10:00:05.000Z',
        provider_event_id: 'resend:msg_bounce_1',
        user_agent: null,
        detail: `Permanent/General: ${bounce.message}`,
      },
    ]);
    expect(await suppressed('email', address.toLowerCase())).toMatchObject({ reason: 'hard-bounce', detail: expect.stringContaining('550 5.1.1') });
  });

  it('never moves a delivery backwards: a delivered after a bounce leaves it bounced; a complaint still goes through', async () => {
    const address = `late-${randomUUID().slice(0, 8)}@example.com`;
    const { executionId, messageId } = await send(emailCampaignId, address, 'email');
    await postResend(resendBody('email.delivery_delayed', messageId));
    expect((await delivery(executionId)).feedback).toBe('delayed');
    await postResend(resendBody('email.bounced', messageId, { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'mailbox full' } }));
    expect(await delivery(executionId)).toMatchObject({ feedback: 'bounced', bounce_type: 'soft' });
    // Out of order: the delivered event arrives after the bounce.
    expect((await postResend(resendBody('email.delivered', messageId))).status).toBe(200);
    expect(await delivery(executionId)).toMatchObject({ feedback: 'bounced', bounce_type: 'soft' });
    expect(await postResend(resendBody('email.delivery_delayed', messageId))).toMatchObject({ status: 200 });
    expect((await delivery(executionId)).feedback).toBe('bounced');
    // A soft bounce suppresses nothing.
    expect(await suppressed('email', address)).toBeNull();
    // Every event is on record all the same.
    expect((await events(executionId)).map((e) => e.type).sort()).toEqual(['bounced', 'delayed', 'delayed', 'delivered']);

    await postResend(resendBody('email.complained', messageId));
    expect((await delivery(executionId)).feedback).toBe('complained');
    expect(await suppressed('email', address)).toMatchObject({ reason: 'complaint' });
  });

  it('applies a replayed event once: the second call answers 200 `replayed` and changes nothing', async () => {
    const { executionId, messageId } = await send(emailCampaignId, `replay-${randomUUID().slice(0, 8)}@example.com`, 'email');
    const body = resendBody('email.delivered', messageId);
    const first = await postResend(body, { id: 'msg_replayed_event' });
    expect(first.body).toEqual({ outcome: 'recorded' });
    const before = { delivery: await delivery(executionId), events: await events(executionId) };
    const again = await postResend(body, { id: 'msg_replayed_event' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ outcome: 'replayed' });
    expect(await delivery(executionId)).toEqual(before.delivery);
    expect(await events(executionId)).toEqual(before.events);
    expect(before.events).toHaveLength(1);
  });

  it('refuses forged, altered and unsigned Resend calls with 401 and changes nothing', async () => {
    const address = `forged-${randomUUID().slice(0, 8)}@example.com`;
    const { executionId, messageId } = await send(emailCampaignId, address, 'email');
    const body = resendBody('email.bounced', messageId, { bounce: { type: 'Permanent', message: 'no such user' } });
    const now = new Date();
    const signedBy = (secret: string, id: string, payload: string) => ({
      'svix-id': id,
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': new Webhook(secret).sign(id, now, payload),
    });
    const attempts = [
      ['another secret', await postResend(body, { secret: OTHER_SECRET })],
      ['no signature headers', await postResend(body, { headers: {} })],
      ['a signature of another body', await postResend(body, { headers: signedBy(RESEND_SECRET, 'msg_x', resendBody('email.delivered', messageId)) })],
      ['a signature under another id', await postResend(body, { headers: { ...signedBy(RESEND_SECRET, 'msg_a', body), 'svix-id': 'msg_b' } })],
      [
        'a signature too old',
        await postResend(body, {
          headers: {
            'svix-id': 'msg_old',
            'svix-timestamp': String(Math.floor(now.getTime() / 1000) - 3600),
            'svix-signature': new Webhook(RESEND_SECRET).sign('msg_old', new Date(now.getTime() - 3_600_000), body),
          },
        }),
      ],
      ['garbage', await postResend(body, { headers: { 'svix-id': 'msg_g', 'svix-timestamp': '1', 'svix-signature': 'v1,AAAA' } })],
    ] as const;
    for (const [name, res] of attempts) {
      expect(res.status, name).toBe(401);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
    }
    expect(await delivery(executionId)).toMatchObject({ feedback: null, bounce_type: null });
    expect(await events(executionId)).toEqual([]);
    expect(await suppressed('email', address)).toBeNull();
  });

  it('answers 200 to an event for a message Herald never sent, and to event types it does not track, changing nothing', async () => {
    const unknown = await postResend(resendBody('email.delivered', `no-such-${randomUUID()}`));
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ outcome: 'unknown-message' });
    const other = await postResend(JSON.stringify({ type: 'contact.created', created_at: new Date().toISOString(), data: { id: 'c1' } }));
    expect(other.body).toEqual({ outcome: 'ignored' });
  });

  it("records Resend opens and clicks as opened and clicked delivery events, beside Herald's own tracking", async () => {
    const { executionId, messageId } = await send(emailCampaignId, `engaged-${randomUUID().slice(0, 8)}@example.com`, 'email');
    await postResend(resendBody('email.opened', messageId));
    await postResend(
      resendBody('email.clicked', messageId, {
        click: { ipAddress: '192.0.2.1', link: 'https://example.com/offer', timestamp: '2030-01-01T11:00:00.000Z', userAgent: 'Mozilla/5.0 (test)' },
      }),
    );
    const recorded = await events(executionId);
    expect(recorded.map((e) => e.type).sort()).toEqual(['clicked', 'opened']);
    expect(recorded.find((e) => e.type === 'clicked')).toMatchObject({ occurred_at: '2030-01-01T11:00:00.000Z', user_agent: 'Mozilla/5.0 (test)' });
    // Engagement is not delivery feedback.
    expect((await delivery(executionId)).feedback).toBeNull();
  });

  describe('Twilio status callbacks', () => {
    it('moves an SMS to delivered, then to a hard bounce on 30005 (suppressing the number); a replay changes nothing', async () => {
      const number = nextNumber();
      const { executionId, messageId } = await send(smsCampaignId, number, 'phone');
      const delivered = await postTwilio({ MessageSid: messageId, MessageStatus: 'delivered', AccountSid: 'AC0000', To: number });
      expect(delivered.status, JSON.stringify(delivered.body)).toBe(200);
      expect(delivered.body).toEqual({ outcome: 'recorded' });
      expect((await delivery(executionId)).feedback).toBe('delivered');
      expect((await postTwilio({ MessageSid: messageId, MessageStatus: 'delivered', AccountSid: 'AC0000', To: number })).body).toEqual({ outcome: 'replayed' });

      const undelivered = { MessageSid: messageId, MessageStatus: 'undelivered', ErrorCode: '30005', AccountSid: 'AC0000', To: number };
      expect((await postTwilio(undelivered)).body).toEqual({ outcome: 'recorded' });
      expect(await delivery(executionId)).toMatchObject({ feedback: 'bounced', bounce_type: 'hard' });
      expect(await events(executionId)).toEqual([
        expect.objectContaining({ type: 'delivered', provider_event_id: `twilio:${messageId}:delivered` }),
        expect.objectContaining({ type: 'bounced', provider_event_id: `twilio:${messageId}:undelivered`, detail: 'undelivered 30005' }),
      ]);
      expect(await suppressed('sms', number)).toMatchObject({ reason: 'hard-bounce' });
    });

    it('counts 30003 (handset off) as a soft bounce that suppresses nothing, and ignores statuses before delivery', async () => {
      const number = nextNumber();
      const { executionId, messageId } = await send(smsCampaignId, number, 'phone');
      expect((await postTwilio({ MessageSid: messageId, MessageStatus: 'sent' })).body).toEqual({ outcome: 'ignored' });
      expect((await postTwilio({ MessageSid: messageId, MessageStatus: 'failed', ErrorCode: '30003' })).body).toEqual({ outcome: 'recorded' });
      expect(await delivery(executionId)).toMatchObject({ feedback: 'bounced', bounce_type: 'soft' });
      expect(await suppressed('sms', number)).toBeNull();
    });

    it('refuses forged and unsigned callbacks, and ones signed for another URL, with 401, changing nothing', async () => {
      const number = nextNumber();
      const { executionId, messageId } = await send(smsCampaignId, number, 'phone');
      const params = { MessageSid: messageId, MessageStatus: 'undelivered', ErrorCode: '30005' };
      const forged = [
        getExpectedTwilioSignature('another-auth-token', TWILIO_STATUS_URL, params),
        getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${herald.baseUrl}/webhooks/twilio`, params),
        getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, TWILIO_STATUS_URL, { ...params, ErrorCode: '30003' }),
        '',
      ];
      for (const signature of forged) expect((await postTwilio(params, signature)).status).toBe(401);
      const unsigned = await herald.request('POST', '/webhooks/twilio', new URLSearchParams(params).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(unsigned.status).toBe(401);
      expect(await delivery(executionId)).toMatchObject({ feedback: null });
      expect(await events(executionId)).toEqual([]);
      expect(await suppressed('sms', number)).toBeNull();
    });
  });

  it('excludes a hard-bounced address from the next send with reason `suppressed`, transactional campaigns included', async () => {
    const address = `next-${randomUUID().slice(0, 8)}@example.com`;
    const { messageId } = await send(emailCampaignId, address, 'email');
    await postResend(resendBody('email.bounced', messageId, { bounce: { type: 'Permanent', message: 'gone' } }));
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('fb-next'),
      campaignId: emailCampaignId,
      recipients: [{ userId: address, namespace: 'email' }],
      context: { code: '1' },
    });
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(execution.recipients[0]).toMatchObject({ status: 'excluded', reason: 'suppressed' });
    const rows = await herald.db.selectFrom('deliveries').select(['status', 'message_id']).where('execution_id', '=', res.body.executionId).execute();
    expect(rows).toEqual([{ status: 'excluded', message_id: null }]);
  });
});
