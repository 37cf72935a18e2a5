import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueRequestId } from '../support/campaigns';
import { startFakeMetaWhatsApp, type FakeMetaWhatsApp } from '../support/fake-meta-whatsapp';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { startHerald, type Herald } from '../support/herald-harness';

/**
 * WhatsApp end to end: a real Herald (API, Temporal worker, SQLite or PostgreSQL) sends through
 * Meta's Cloud API (the default, META_WHATSAPP_*) and through Twilio (a channel configuration) to
 * fakes on loopback; review refuses a marketing session message; a WhatsApp STOP through Twilio's
 * inbound webhook opts the number out of WhatsApp.
 */

const PUBLIC_URL = 'https://herald.example.test';
const TWILIO_AUTH_TOKEN = 'twilio-whatsapp-auth-token-0123456789';
const TWILIO_FROM = '+14155550000';

let numberCounter = 0;
/** A fresh valid US number per test (415-555-3xxx is in the plan libphonenumber checks). */
const nextNumber = () => `+1415555${String(3000 + (++numberCounter % 1000)).padStart(4, '0')}`;

const templateContent = {
  template: { name: 'order_shipped', language: 'en_US', parameters: ['{{ profile.firstName }}', 'order {{ context.orderId }}'] },
};

describe('WhatsApp', () => {
  let meta: FakeMetaWhatsApp;
  let fakeTwilio: FakeTwilio;
  let herald: Herald;

  beforeAll(async () => {
    meta = await startFakeMetaWhatsApp();
    fakeTwilio = await startFakeTwilio({ authToken: TWILIO_AUTH_TOKEN });
    herald = await startHerald({
      env: {
        META_WHATSAPP_PHONE_NUMBER_ID: meta.phoneNumberId,
        META_WHATSAPP_ACCESS_TOKEN: meta.accessToken,
        META_WHATSAPP_BASE_URL: meta.url,
        TWILIO_AUTH_TOKEN,
        TWILIO_BASE_URL: fakeTwilio.url,
        HERALD_PUBLIC_URL: PUBLIC_URL,
        // A configuration's own Twilio account, read from variables HERALD_SENDER_ENV lets the worker read.
        HERALD_SENDER_ENV: 'ACME_TWILIO_SID,ACME_TWILIO_TOKEN',
        ACME_TWILIO_SID: fakeTwilio.accountSid,
        ACME_TWILIO_TOKEN: TWILIO_AUTH_TOKEN,
      },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await meta?.close();
    await fakeTwilio?.close();
  });
  afterEach(() => {
    meta.reset();
    fakeTwilio.reset();
  });

  async function campaign(body: Record<string, unknown>): Promise<{ id: string; activation: { status: number; body: any } }> {
    const created = await herald.request('POST', '/v1/campaigns', {
      name: 'WhatsApp',
      channel: 'whatsapp',
      audience: { namespace: 'phone', createMissingProfiles: true },
      ...body,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id as string, activation: await herald.request('POST', `/v1/campaigns/${created.body.id}/activate`) };
  }

  async function send(campaignId: string, recipient: Record<string, unknown>, context: Record<string, unknown> = {}) {
    const res = await herald.request('POST', '/v1/executions/unitary', { requestId: uniqueRequestId('wa'), campaignId, recipients: [recipient], context });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return (await herald.waitForExecution(res.body.executionId)).recipients[0];
  }

  async function person(number: string, consents: Record<string, string>, firstName = 'Ada') {
    const res = await herald.request('PUT', `/v1/profiles/phone/${encodeURIComponent(number)}`, { attributes: { firstName }, consents });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  }

  it('sends a marketing template through Meta by default, its parameters rendered from the profile and context', async () => {
    const to = nextNumber();
    // A value with quotes and a comma stays one parameter.
    await person(to, { whatsapp: 'in' }, 'Ada "A", B');
    const { id, activation } = await campaign({ type: 'marketing', content: templateContent });
    expect(activation.status, JSON.stringify(activation.body)).toBe(200);

    const outcome = await send(id, { userId: to, namespace: 'phone' }, { orderId: 'A-42' });

    expect(meta.messages).toEqual([
      {
        id: expect.stringMatching(/^wamid\./),
        to,
        type: 'template',
        template: { name: 'order_shipped', language: 'en_US', parameters: ['Ada "A", B', 'order A-42'] },
      },
    ]);
    expect(meta.requests[0]!.headers.authorization).toBe(`Bearer ${meta.accessToken}`);
    expect(outcome).toMatchObject({ userId: to, status: 'sent', messageId: meta.messages[0]!.id });
  });

  it('refuses to activate a marketing campaign with a body only, naming the field (422)', async () => {
    const { activation } = await campaign({ type: 'marketing', content: { body: 'Sale today!' } });
    expect(activation.status).toBe(422);
    expect(activation.body.errors).toEqual([{ field: 'content.body', message: expect.stringContaining('only as an approved template') }]);
  });

  it('sends a session message through a Twilio channel configuration, from whatsapp:+E164 to the channelData number', async () => {
    const configuration = await herald.request('POST', '/v1/channel-configurations', {
      name: 'Acme WhatsApp',
      channel: 'whatsapp',
      provider: 'twilio',
      settings: { from: TWILIO_FROM, accountSidEnv: 'ACME_TWILIO_SID', authTokenEnv: 'ACME_TWILIO_TOKEN' },
    });
    expect(configuration.status, JSON.stringify(configuration.body)).toBe(201);
    const { id, activation } = await campaign({
      type: 'transactional',
      content: { body: 'Hi {{ profile.firstName }}, your table for {{ context.guests }} is ready' },
      channelConfigurationId: configuration.body.id,
    });
    expect(activation.status, JSON.stringify(activation.body)).toBe(200);
    const userId = nextNumber();
    await person(userId, {});
    const to = nextNumber();

    const outcome = await send(id, { userId, namespace: 'phone', channelData: { mobilePhoneNumber: to } }, { guests: 4 });

    expect(fakeTwilio.requestsTo(`whatsapp:${to}`).map((request) => request.form)).toEqual([
      { To: `whatsapp:${to}`, From: `whatsapp:${TWILIO_FROM}`, Body: 'Hi Ada, your table for 4 is ready' },
    ]);
    expect(meta.messages).toEqual([]);
    expect(outcome).toMatchObject({ status: 'sent', messageId: fakeTwilio.messages[0]!.sid });
  });

  it('a WhatsApp STOP through Twilio, signed, opts the number out of WhatsApp (not SMS); the next marketing message is excluded', async () => {
    const number = nextNumber();
    await person(number, { sms: 'in', whatsapp: 'in' });
    const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, From: `whatsapp:${number}`, To: `whatsapp:${TWILIO_FROM}`, Body: ' stop ' };
    const inbound = (signature: string | undefined) =>
      fetch(`${herald.baseUrl}/webhooks/twilio/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined && { 'x-twilio-signature': signature }) },
        body: new URLSearchParams(params).toString(),
      });
    const consents = async () => (await herald.request('GET', `/v1/profiles/phone/${encodeURIComponent(number)}`)).body.consents;

    expect((await inbound(undefined)).status).toBe(401);
    expect((await inbound(twilio.getExpectedTwilioSignature('another-token', `${PUBLIC_URL}/webhooks/twilio/inbound`, params))).status).toBe(401);
    expect(await consents()).toEqual({ sms: 'in', whatsapp: 'in' });

    const stop = await inbound(twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_URL}/webhooks/twilio/inbound`, params));
    expect(stop.status).toBe(200);
    expect(await consents()).toEqual({ sms: 'in', whatsapp: 'out' });
    const audit = await herald.request('GET', `/v1/audit-log?resourceType=profile&resourceId=${encodeURIComponent(`phone/${number}`)}`);
    expect(audit.body.items?.[0]).toMatchObject({ actorKeyId: 'public:twilio-inbound', after: { consents: { whatsapp: 'out' } } });

    const { id } = await campaign({ type: 'marketing', content: templateContent });
    expect(await send(id, { userId: number, namespace: 'phone' }, { orderId: '1' })).toMatchObject({ status: 'excluded', reason: 'no-consent' });
    expect(meta.messages).toEqual([]);
  });
});
