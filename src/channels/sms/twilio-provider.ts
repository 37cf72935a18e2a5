import { answerError, callProvider, jsonOrUndefined } from '../provider-http';
import type { SmsMessage, SmsProvider } from './sms-provider';

export const TWILIO_API = 'https://api.twilio.com';

/** Where an account's messages are sent (SMS and WhatsApp alike) and the basic auth that account sends with. */
export function twilioMessagesEndpoint(accountSid: string, authToken: string, baseUrl: string | undefined): { url: string; authorization: string } {
  return {
    url: `${(baseUrl ?? TWILIO_API).replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
    authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
  };
}

/** Twilio's error body: `{code, message, more_info, status}`. */
interface TwilioError {
  code?: number;
  message?: string;
  status?: number;
}

/**
 * Twilio's Programmable Messaging REST API, called with fetch: `POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From` or
 * `MessagingServiceSid`, `Body`, with basic auth (account SID and auth token). The official SDK
 * reaches only Twilio's own hosts (region and edge), so a base URL (TWILIO_BASE_URL) is what lets
 * tests talk to a fake on loopback.
 *
 * 429 (with Retry-After), 5xx and network errors are retryable; every other 4xx is a permanent
 * refusal (21211 invalid To, 21610 unsubscribed recipient, 21408 region not enabled, 20003 bad
 * credentials). Twilio has no idempotency key for sends: see docs/channels.md, "SMS", for the guarantee.
 */
export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';
  private readonly url: string;
  private readonly authorization: string;

  constructor(
    accountSid: string,
    authToken: string,
    baseUrl: string | undefined,
    /** A hung call is abandoned (and retried) long before the activity times out. */
    private readonly timeoutMs: number,
  ) {
    ({ url: this.url, authorization: this.authorization } = twilioMessagesEndpoint(accountSid, authToken, baseUrl));
  }

  async send(message: SmsMessage): Promise<{ messageId: string }> {
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    if (message.messagingServiceSid !== undefined) form.set('MessagingServiceSid', message.messagingServiceSid);
    else if (message.from !== undefined) form.set('From', message.from);
    const headers = { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const answer = await callProvider('Twilio', this.url, { method: 'POST', headers, body: form }, this.timeoutMs);
    const body = jsonOrUndefined<TwilioError & { sid?: string }>(answer.text);
    if (answer.ok && typeof body?.sid === 'string') return { messageId: body.sid };
    throw answerError(
      answer,
      `Twilio ${answer.status}${body?.code !== undefined ? ` ${body.code}` : ''}: ${(body?.message ?? (answer.ok ? 'an answer without a message sid' : 'no detail')).slice(0, 300)}`,
    );
  }
}
