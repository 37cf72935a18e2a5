import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * SMS end to end: a real Herald (API, Temporal worker, SQLite or PostgreSQL) sends through
 * Twilio's REST API to a fake Twilio on a loopback port (TWILIO_BASE_URL).
 */

const FROM = '+14155550000';

const smsCampaign = (overrides: Record<string, unknown> = {}) => ({
  name: 'OTP by SMS',
  type: 'transactional',
  channel: 'sms',
  content: { body: 'Hi {{ profile.firstName }}, your code is {{ context.code }}' },
  audience: { namespace: 'phone', createMissingProfiles: true },
  ...overrides,
});

async function liveSmsCampaign(herald: Herald, overrides: Record<string, unknown> = {}): Promise<string> {
  const created = await herald.request('POST', '/v1/campaigns', smsCampaign(overrides));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const activated = await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`);
  expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  return created.body.id as string;
}

let numberCounter = 0;
/** A fresh valid US mobile-format number per test (415-555-2xxx is in the plan libphonenumber checks). */
const nextNumber = () => `+1415555${String(2000 + (++numberCounter % 1000)).padStart(4, '0')}`;

const outcomeOf = (execution: any, userId: string) => execution.recipients.find((r: any) => r.userId === userId);

describe('SMS through Twilio', () => {
  let fake: FakeTwilio;
  let herald: Herald;
  let campaignId: string;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    herald = await startHerald({
      env: {
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: FROM,
        TWILIO_BASE_URL: fake.url,
        // A configuration's own account, read from variables HERALD_SENDER_ENV lets the worker read.
        HERALD_SENDER_ENV: 'ACME_TWILIO_SID,ACME_TWILIO_TOKEN',
        ACME_TWILIO_SID: fake.accountSid,
        ACME_TWILIO_TOKEN: fake.authToken,
      },
    });
    campaignId = await liveSmsCampaign(herald);
  });
  afterAll(async () => {
    await herald?.stop();
    await fake?.close();
  });
  afterEach(() => fake.reset());

  async function trigger(body: { requestId?: string; campaignId?: string; recipients: Record<string, unknown>[]; context?: Record<string, unknown> }) {
    const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('sms'), campaignId, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.executionId as string;
  }

  it('sends one rendered SMS with basic auth, From and the message sid recorded', async () => {
    const to = nextNumber();
    expect((await herald.request('PUT', `/v1/profiles/phone/${encodeURIComponent(to)}`, { attributes: { firstName: 'Ada' } })).status).toBe(201);

    const executionId = await trigger({ recipients: [{ userId: to, namespace: 'phone' }], context: { code: '4711' } });
    const execution = await herald.waitForExecution(executionId);

    expect(fake.requestsTo(to)).toHaveLength(1);
    const [request] = fake.requestsTo(to);
    expect(request!.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`);
    expect(request!.form).toEqual({ To: to, From: FROM, Body: 'Hi Ada, your code is 4711' });
    expect(fake.messages).toHaveLength(1);
    expect(execution.status).toBe('completed');
    expect(execution.recipients).toEqual([expect.objectContaining({ userId: to, status: 'sent', messageId: fake.messages[0]!.sid, locale: 'default' })]);
    expect(fake.messages[0]!.sid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('finds the number in channelData, then the profile phone, then the userId, in E.164; fails an invalid one', async () => {
    const fromUserId = nextNumber();
    const withProfilePhone = nextNumber();
    const withChannelData = nextNumber();
    const invalid = '+15555550100';
    expect(
      (await herald.request('PUT', `/v1/profiles/phone/${encodeURIComponent(withProfilePhone)}`, { attributes: { phone: '+44 7911 123456' } })).status,
    ).toBe(201);

    const executionId = await trigger({
      recipients: [
        { userId: fromUserId, namespace: 'phone' },
        { userId: withProfilePhone, namespace: 'phone' },
        { userId: withChannelData, namespace: 'phone', channelData: { mobilePhoneNumber: '+33 6 12 34 56 78' } },
        { userId: invalid, namespace: 'phone' },
      ],
      context: { code: '1' },
    });
    const execution = await herald.waitForExecution(executionId);

    expect(fake.messages.map((m) => m.to).sort()).toEqual([fromUserId, '+33612345678', '+447911123456'].sort());
    expect(outcomeOf(execution, fromUserId)).toMatchObject({ status: 'sent' });
    expect(outcomeOf(execution, withProfilePhone)).toMatchObject({ status: 'sent' });
    expect(outcomeOf(execution, withChannelData)).toMatchObject({ status: 'sent' });
    expect(outcomeOf(execution, invalid)).toMatchObject({ status: 'failed', reason: 'invalid-phone-number' });
    expect(fake.requestsTo(invalid)).toHaveLength(0);
    const addresses = await herald.db
      .selectFrom('deliveries')
      .select(['user_id', 'address'])
      .where('execution_id', '=', executionId)
      .orderBy('position')
      .execute();
    expect(addresses.map((row) => row.address)).toEqual([fromUserId, '+447911123456', '+33612345678', invalid]);
    // A profile created from channelData keeps the number as its phone.
    const created = await herald.request('GET', `/v1/profiles/phone/${encodeURIComponent(withChannelData)}`);
    expect(created.body.attributes).toMatchObject({ phone: '+33 6 12 34 56 78' });
  });

  it('fails a recipient with no number at all as no-phone-number', async () => {
    const crmCampaign = await liveSmsCampaign(herald, { audience: { namespace: 'crm', createMissingProfiles: true } });
    const executionId = await trigger({ campaignId: crmCampaign, recipients: [{ userId: 'crm-without-phone', namespace: 'crm' }], context: { code: '1' } });
    const execution = await herald.waitForExecution(executionId);
    expect(outcomeOf(execution, 'crm-without-phone')).toMatchObject({ status: 'failed', reason: 'no-phone-number' });
    expect(fake.requests).toHaveLength(0);
  });

  it('retries 429 (honouring Retry-After) and 503 until Twilio accepts, and sends once', async () => {
    const to = nextNumber();
    const retryAfterSeconds = 2;
    fake.failNext([{ status: 429, retryAfterSeconds }, { status: 503 }], { to });

    const executionId = await trigger({ recipients: [{ userId: to, namespace: 'phone' }], context: { code: '2' } });
    const execution = await herald.waitForExecution(executionId);

    const attempts = fake.requestsTo(to);
    expect(attempts.map((r) => r.status)).toEqual([429, 503, 201]);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
    expect(fake.messagesTo(to)).toHaveLength(1);
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent', messageId: fake.messagesTo(to)[0]!.sid });
  });

  it('retries a connection Twilio drops before answering, and sends once', async () => {
    const to = nextNumber();
    fake.failNext([{ dropConnection: true }], { to });
    const executionId = await trigger({ recipients: [{ userId: to, namespace: 'phone' }], context: { code: '3' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsTo(to)).toHaveLength(2);
    expect(fake.messagesTo(to)).toHaveLength(1);
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent', messageId: fake.messagesTo(to)[0]!.sid });
  });

  it('fails a number Twilio refuses (400, 21211) at once, with the reason', async () => {
    const to = nextNumber();
    fake.rejectNumber(to);
    const executionId = await trigger({ recipients: [{ userId: to, namespace: 'phone' }], context: { code: '4' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsTo(to).map((r) => r.status)).toEqual([400]);
    expect(fake.messages).toHaveLength(0);
    const outcome = outcomeOf(execution, to);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.reason).toContain('provider-rejected');
    expect(outcome.reason).toContain('21211');
    expect(outcome.messageId).toBeUndefined();
    expect(execution.status).toBe('completed');
  });

  it('sends once per recipient however often the call is repeated', async () => {
    const to = nextNumber();
    const body = { requestId: uniqueRequestId('sms-repeat'), recipients: [{ userId: to, namespace: 'phone' }], context: { code: '5' } };
    const [first, second] = await Promise.all([trigger(body), trigger(body)]);
    expect(second).toBe(first);
    await herald.waitForExecution(first);
    expect(await trigger(body)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const execution = await herald.waitForExecution(first);
    expect(fake.requestsTo(to)).toHaveLength(1);
    expect(fake.messagesTo(to)).toHaveLength(1);
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent', messageId: fake.messagesTo(to)[0]!.sid });
  });

  it('is at least once, not exactly once, when Twilio accepted but the answer was lost (documented)', async () => {
    // Twilio has no idempotency key: a retry after a lost answer is a new message. docs/channels.md, "SMS", says so.
    const to = nextNumber();
    fake.failNext([{ acceptThenDrop: true }], { to });
    const executionId = await trigger({ recipients: [{ userId: to, namespace: 'phone' }], context: { code: '6' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsTo(to)).toHaveLength(2);
    expect(fake.messagesTo(to)).toHaveLength(2);
    // The delivery records the message whose answer Herald received.
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent', messageId: fake.messagesTo(to)[1]!.sid });
  });

  it('picks the variant of the profile locale (pt-BR → pt → default)', async () => {
    const multilingual = await liveSmsCampaign(herald, {
      content: {
        default: { body: 'Your code is {{ context.code }}' },
        translations: { fr: { body: 'Votre code : {{ context.code }}' }, pt: { body: 'O seu código é {{ context.code }}' } },
      },
    });
    const [fr, ptBr, de] = [nextNumber(), nextNumber(), nextNumber()];
    for (const [userId, locale] of [
      [fr, 'fr'],
      [ptBr, 'pt-BR'],
      [de, 'de'],
    ] as const) {
      expect((await herald.request('PUT', `/v1/profiles/phone/${encodeURIComponent(userId)}`, { attributes: {}, locale })).status).toBe(201);
    }
    const executionId = await trigger({
      campaignId: multilingual,
      recipients: [fr, ptBr, de].map((userId) => ({ userId, namespace: 'phone' })),
      context: { code: '77' },
    });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.messagesTo(fr)[0]!.body).toBe('Votre code : 77');
    expect(fake.messagesTo(ptBr)[0]!.body).toBe('O seu código é 77');
    expect(fake.messagesTo(de)[0]!.body).toBe('Your code is 77');
    expect(outcomeOf(execution, fr)).toMatchObject({ status: 'sent', locale: 'fr' });
    expect(outcomeOf(execution, ptBr)).toMatchObject({ status: 'sent', locale: 'pt' });
    expect(outcomeOf(execution, de)).toMatchObject({ status: 'sent', locale: 'default' });
  });

  it('sends with a channel configuration: its account and its Messaging Service', async () => {
    const configuration = await herald.request('POST', '/v1/channel-configurations', {
      name: 'Acme SMS',
      channel: 'sms',
      provider: 'twilio',
      settings: { messagingServiceSid: `MG${'a'.repeat(32)}`, accountSidEnv: 'ACME_TWILIO_SID', authTokenEnv: 'ACME_TWILIO_TOKEN' },
    });
    expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
    const configured = await liveSmsCampaign(herald, { channelConfigurationId: configuration.body.id });
    const to = nextNumber();
    const executionId = await trigger({ campaignId: configured, recipients: [{ userId: to, namespace: 'phone' }], context: { code: '8' } });
    const execution = await herald.waitForExecution(executionId);
    expect(fake.requestsTo(to).map((r) => r.form)).toEqual([{ To: to, MessagingServiceSid: `MG${'a'.repeat(32)}`, Body: 'Hi , your code is 8' }]);
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent' });
  });

  it('checks SMS content on save and at review', async () => {
    const unsafe = await herald.request('POST', '/v1/campaigns', smsCampaign({ content: { body: '{{ constructor }}' } }));
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.errors).toEqual([{ field: 'content.body', message: expect.stringContaining('constructor') }]);
    const unsafeTranslation = await herald.request(
      'POST',
      '/v1/campaigns',
      smsCampaign({ content: { default: { body: 'ok' }, translations: { fr: { body: '{% include "x" %}' } } } }),
    );
    expect(unsafeTranslation.status).toBe(400);
    expect(unsafeTranslation.body.errors).toEqual([{ field: 'content.translations.fr.body', message: expect.stringContaining('include') }]);

    const emailShaped = await herald.request('POST', '/v1/campaigns', smsCampaign({ content: { subject: 'Hi', html: '<p>Hi</p>' } }));
    expect(emailShaped.status).toBe(201);
    const review = await herald.request('POST', `/v1/campaigns/${emailShaped.body.id}/activate`);
    expect(review.status).toBe(422);
    expect(review.body.errors).toEqual([{ field: 'content.body', message: 'an SMS campaign needs a body' }]);

    const emptyFr = await herald.request('POST', '/v1/campaigns', smsCampaign({ content: { default: { body: 'ok' }, translations: { fr: { body: '' } } } }));
    expect(emptyFr.status).toBe(201);
    const frReview = await herald.request('POST', `/v1/campaigns/${emptyFr.body.id}/activate`);
    expect(frReview.status).toBe(422);
    expect(frReview.body.errors).toEqual([{ field: 'content.translations.fr.body', message: 'an SMS campaign needs a body' }]);
  });

  it('previews the body with its encoding and segment count, the E.164 address, and sends nothing', async () => {
    const long = await herald.request('POST', '/v1/campaigns', smsCampaign({ content: { body: '{{ context.text }}' } }));
    const preview = (text: string, recipient: Record<string, unknown> = {}) =>
      herald.request('POST', `/v1/campaigns/${long.body.id}/preview`, {
        recipient: { userId: '+1 (415) 555-2671', namespace: 'phone', ...recipient },
        context: { text },
      });

    const gsm = await preview('Your code is 4711');
    expect(gsm.status, JSON.stringify(gsm.body)).toBe(200);
    expect(gsm.body).toMatchObject({
      decision: { status: 'would-send' },
      address: '+14155552671',
      rendered: { body: 'Your code is 4711', sms: { encoding: 'GSM-7', segments: 1, characters: 17 } },
    });
    expect((await preview('x'.repeat(161))).body.rendered.sms).toEqual({ encoding: 'GSM-7', segments: 2, characters: 161 });
    expect((await preview('Ваш код 4711')).body.rendered.sms).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect((await preview('я'.repeat(71))).body.rendered.sms).toMatchObject({ encoding: 'UCS-2', segments: 2 });

    const invalid = await preview('hi', { userId: '+15555550100' });
    expect(invalid.body).toMatchObject({
      decision: { status: 'failed', reason: 'invalid-phone-number' },
      address: '+15555550100',
      exclusions: ['invalid-phone-number'],
    });
    const viaChannelData = await preview('hi', { channelData: { mobilePhoneNumber: '+44 7911 123456' } });
    expect(viaChannelData.body.address).toBe('+447911123456');

    expect(fake.requests).toHaveLength(0);
    expect((await herald.request('GET', `/v1/profiles/phone/${encodeURIComponent('+1 (415) 555-2671')}`)).status).toBe(404);
  });
});

describe('SMS without Twilio credentials', () => {
  let herald: Herald;

  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('goes to the outbox, body in text', async () => {
    const campaignId = await liveSmsCampaign(herald);
    const to = '+14155552671';
    const res = await herald.request('POST', '/v1/executions/unitary', {
      requestId: uniqueRequestId('sms-outbox'),
      campaignId,
      recipients: [{ userId: to, namespace: 'phone' }],
      context: { code: '9' },
    });
    expect(res.status).toBe(202);
    const execution = await herald.waitForExecution(res.body.executionId);
    expect(outcomeOf(execution, to)).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^outbox_/) });
    const outbox = await herald.request('GET', `/v1/outbox?campaignId=${campaignId}`);
    expect(outbox.body.items).toEqual([expect.objectContaining({ channel: 'sms', to, subject: null, html: null, text: 'Hi , your code is 9', userId: to })]);
  });
});
