import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { TwilioSmsProvider } from '../../src/channels/sms/twilio-provider';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';

describe('the Twilio provider against the fake Twilio', () => {
  let fake: FakeTwilio;
  let twilio: TwilioSmsProvider;
  const message = (to = '+14155552671') => ({ to, body: 'Code 1', from: '+14155550000', idempotencyKey: 'k', campaignId: 'c', executionId: 'e', userId: 'u' });

  beforeAll(async () => {
    fake = await startFakeTwilio();
    twilio = new TwilioSmsProvider(fake.accountSid, fake.authToken, `${fake.url}/`, 2_000);
  });
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  it('answers the message sid', async () => {
    const { messageId } = await twilio.send(message());
    expect(messageId).toBe(fake.messages[0]!.sid);
    expect(fake.requests[0]!.form).toEqual({ To: '+14155552671', From: '+14155550000', Body: 'Code 1' });
  });

  it('sends MessagingServiceSid instead of From when given', async () => {
    const sid = `MG${'b'.repeat(32)}`;
    await twilio.send({ ...message(), from: undefined, messagingServiceSid: sid } as never);
    expect(fake.requests[0]!.form).toEqual({ To: '+14155552671', MessagingServiceSid: sid, Body: 'Code 1' });
  });

  it('classifies 429 (with Retry-After), 5xx and network errors as retryable', async () => {
    fake.failNext([{ status: 429, retryAfterSeconds: 3 }, { status: 500 }, { status: 503 }, { dropConnection: true }]);
    const rateLimited = await twilio.send(message()).catch((error: unknown) => error);
    expect(rateLimited).toBeInstanceOf(ProviderUnavailableError);
    expect(rateLimited).toMatchObject({ retryAfterMs: 3000, message: expect.stringContaining('Twilio 429 20429') });
    for (let i = 0; i < 3; i++) await expect(twilio.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.messages).toHaveLength(0);
  });

  it("classifies other 4xx as permanent, with Twilio's code and message", async () => {
    fake.rejectNumber('+14155552672');
    const rejected = await twilio.send(message('+14155552672')).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(ProviderRejectedError);
    expect((rejected as Error).message).toMatch(/^Twilio 400 21211: The 'To' number/);
    const wrongToken = new TwilioSmsProvider(fake.accountSid, 'wrong', fake.url, 2_000);
    await expect(wrongToken.send(message())).rejects.toThrow(/Twilio 401 20003: Authenticate/);
  });

  it('gives up on a hung Twilio after its timeout, as retryable', async () => {
    // The fake takes the request and never answers; no message is created.
    fake.failNext([{ hold: true }]);
    const impatient = new TwilioSmsProvider(fake.accountSid, fake.authToken, fake.url, 200);
    await expect(impatient.send(message())).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(fake.requests).toHaveLength(1);
    expect(fake.messages).toHaveLength(0);
  });
});
