import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { MetaWhatsAppProvider } from '../../src/channels/whatsapp/meta-whatsapp-provider';
import { TwilioWhatsAppProvider } from '../../src/channels/whatsapp/twilio-whatsapp-provider';
import type { WhatsAppMessage } from '../../src/channels/whatsapp/whatsapp-provider';
import { startFakeMetaWhatsApp, type FakeMetaWhatsApp } from '../support/fake-meta-whatsapp';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';

/**
 * Each WhatsApp provider against its loopback fake: what it sends, and how it classifies every
 * failure, retryable (ProviderUnavailableError, with Retry-After) or permanent (ProviderRejectedError),
 * the split failover relies on.
 */

const TO = '+14155552671';
const CONTENT_SID = `HX${'a'.repeat(32)}`;
const message = (overrides: Partial<WhatsAppMessage> = {}): WhatsAppMessage => ({
  to: TO,
  body: 'Your table is ready',
  idempotencyKey: 'k',
  campaignId: 'c',
  executionId: 'e',
  userId: 'u',
  ...overrides,
});
const templateMessage = (name: string) => message({ body: undefined, template: { name, language: 'en_US', parameters: ['Ada', 'A-42'] } });

async function failure(send: Promise<unknown>): Promise<unknown> {
  return send.then(
    () => expect.fail('the send succeeded'),
    (error: unknown) => error,
  );
}

describe('Meta WhatsApp Cloud API', () => {
  let fake: FakeMetaWhatsApp;
  let provider: MetaWhatsAppProvider;
  beforeAll(async () => {
    fake = await startFakeMetaWhatsApp({ knownTemplates: ['order_shipped'] });
    provider = new MetaWhatsAppProvider(fake.phoneNumberId, fake.accessToken, 'v21.0', fake.url, 500);
  });
  afterAll(() => fake?.close());
  afterEach(() => fake.reset());

  it('sends a session message and a template with its parameters, with the Bearer token', async () => {
    const text = await provider.send(message());
    const template = await provider.send(templateMessage('order_shipped'));
    expect(text.messageId).toMatch(/^wamid\./);
    expect(fake.messages.map((m) => m.id)).toEqual([text.messageId, template.messageId]);
    expect(fake.requests[0]!.path).toBe(`/v21.0/${fake.phoneNumberId}/messages`);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(fake.requests[0]!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: TO,
      type: 'text',
      text: { body: 'Your table is ready', preview_url: false },
    });
    expect(fake.requests[1]!.body.template).toEqual({
      name: 'order_shipped',
      language: { code: 'en_US' },
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Ada' },
            { type: 'text', text: 'A-42' },
          ],
        },
      ],
    });
  });

  it('retries 429 after its Retry-After, 5xx, a retryable code on a 400, a dropped connection and a timeout', async () => {
    fake.failNext([{ status: 429, retryAfterSeconds: 7 }, { status: 503 }, { status: 400, code: 131056 }, { dropConnection: true }, { hold: true }]);
    const rateLimited = await failure(provider.send(message()));
    expect(rateLimited).toBeInstanceOf(ProviderUnavailableError);
    expect((rateLimited as ProviderUnavailableError).retryAfterMs).toBe(7000);
    expect(await failure(provider.send(message()))).toBeInstanceOf(ProviderUnavailableError);
    expect(await failure(provider.send(message()))).toBeInstanceOf(ProviderUnavailableError);
    expect(await failure(provider.send(message()))).toBeInstanceOf(ProviderUnavailableError);
    const timedOut = await failure(provider.send(message()));
    expect(timedOut).toBeInstanceOf(ProviderUnavailableError);
    expect((timedOut as Error).message).toMatch(/^Meta WhatsApp unreachable/);
    expect(fake.messages).toEqual([]);
  });

  it('refuses for good an undeliverable number, an unknown template and a bad token', async () => {
    fake.rejectNumber(TO);
    const undeliverable = await failure(provider.send(message()));
    expect(undeliverable).toBeInstanceOf(ProviderRejectedError);
    expect((undeliverable as Error).message).toBe('Meta WhatsApp 400 131026: Message Undeliverable');
    fake.reset();
    expect(await failure(provider.send(templateMessage('no_such_template')))).toBeInstanceOf(ProviderRejectedError);
    const wrongToken = new MetaWhatsAppProvider(fake.phoneNumberId, 'wrong', 'v21.0', fake.url, 500);
    expect(await failure(wrongToken.send(message()))).toBeInstanceOf(ProviderRejectedError);
  });
});

describe('Twilio WhatsApp', () => {
  let fake: FakeTwilio;
  let provider: TwilioWhatsAppProvider;
  beforeAll(async () => {
    fake = await startFakeTwilio();
    provider = new TwilioWhatsAppProvider({ accountSid: fake.accountSid, authToken: fake.authToken, baseUrl: fake.url }, { from: '+14155550000' }, 500);
  });
  afterAll(() => fake?.close());
  afterEach(() => fake.reset());

  it('sends whatsapp: numbers, a body or a Content SID with its variables', async () => {
    const text = await provider.send(message());
    await provider.send(templateMessage(CONTENT_SID));
    expect(text.messageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.requests.map((request) => request.form)).toEqual([
      { To: `whatsapp:${TO}`, From: 'whatsapp:+14155550000', Body: 'Your table is ready' },
      { To: `whatsapp:${TO}`, From: 'whatsapp:+14155550000', ContentSid: CONTENT_SID, ContentVariables: '{"1":"Ada","2":"A-42"}' },
    ]);
  });

  it('retries 429 after its Retry-After, 5xx and a dropped connection; refuses a bad number and a template that is no Content SID', async () => {
    fake.failNext([{ status: 429, retryAfterSeconds: 3 }, { status: 500 }, { dropConnection: true }]);
    const rateLimited = await failure(provider.send(message()));
    expect(rateLimited).toBeInstanceOf(ProviderUnavailableError);
    expect((rateLimited as ProviderUnavailableError).retryAfterMs).toBe(3000);
    expect(await failure(provider.send(message()))).toBeInstanceOf(ProviderUnavailableError);
    expect(await failure(provider.send(message()))).toBeInstanceOf(ProviderUnavailableError);
    fake.rejectNumber(`whatsapp:${TO}`, 400, 63016, 'Failed to send freeform message because you are outside the allowed window');
    const outsideWindow = await failure(provider.send(message()));
    expect(outsideWindow).toBeInstanceOf(ProviderRejectedError);
    expect((outsideWindow as Error).message).toMatch(/^Twilio WhatsApp 400 63016/);
    const notContentSid = await failure(provider.send(templateMessage('order_shipped')));
    expect(notContentSid).toBeInstanceOf(ProviderRejectedError);
    expect(fake.messages).toEqual([]);
  });
});
