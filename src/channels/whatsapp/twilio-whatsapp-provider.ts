import { ProviderRejectedError } from '../provider-errors';
import { answerError, callProvider, jsonOrUndefined } from '../provider-http';
import { twilioMessagesEndpoint } from '../sms/twilio-provider';
import type { WhatsAppMessage, WhatsAppProvider } from './whatsapp-provider';

/** Who a WhatsApp message is sent as through Twilio: a WhatsApp-enabled number (E.164), or a Messaging Service holding one. */
export type TwilioWhatsAppSender = { from: string } | { messagingServiceSid: string };

/** A Content SID, how Twilio names an approved WhatsApp template (Content Template Builder). */
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

/**
 * WhatsApp through Twilio's Messages API, the same endpoint as SMS (`POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json`, basic auth) with `whatsapp:`-prefixed numbers. A
 * session message is `Body`; an approved template is `ContentSid` (the template's `name`) and
 * `ContentVariables` ({"1": …, "2": …} from its parameters; the Content SID fixes the language).
 *
 * 429 (with Retry-After), 5xx and network errors are retryable; every other 4xx is a permanent
 * refusal (21211 invalid To, 63016 outside the 24-hour session, 63018 rate per number, 20003 bad
 * credentials). No idempotency key: see docs/whatsapp.md for the guarantee.
 */
export class TwilioWhatsAppProvider implements WhatsAppProvider {
  readonly name = 'twilio';
  /** The account's Messages endpoint and basic auth, shared with SMS. */
  private readonly endpoint: { url: string; authorization: string };

  constructor(
    credentials: { accountSid: string; authToken: string; baseUrl: string | undefined },
    private readonly sender: TwilioWhatsAppSender,
    /** A hung call is abandoned (and retried) long before the activity times out. */
    private readonly timeoutMs: number,
  ) {
    this.endpoint = twilioMessagesEndpoint(credentials.accountSid, credentials.authToken, credentials.baseUrl);
  }

  async send(message: WhatsAppMessage): Promise<{ messageId: string }> {
    const form = new URLSearchParams({ To: `whatsapp:${message.to}` });
    if ('messagingServiceSid' in this.sender) form.set('MessagingServiceSid', this.sender.messagingServiceSid);
    else form.set('From', `whatsapp:${this.sender.from}`);
    if (message.template) {
      if (!CONTENT_SID.test(message.template.name))
        throw new ProviderRejectedError(`Twilio sends a WhatsApp template by its Content SID (HX…); ${message.template.name} is not one`);
      form.set('ContentSid', message.template.name);
      form.set('ContentVariables', JSON.stringify(Object.fromEntries(message.template.parameters.map((value, index) => [String(index + 1), value]))));
    } else {
      form.set('Body', message.body ?? '');
    }
    const headers = { authorization: this.endpoint.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const answer = await callProvider('Twilio', this.endpoint.url, { method: 'POST', headers, body: form }, this.timeoutMs);
    const body = jsonOrUndefined<{ sid?: string; code?: number; message?: string }>(answer.text);
    if (answer.ok && typeof body?.sid === 'string') return { messageId: body.sid };
    const code = body?.code !== undefined ? ` ${body.code}` : '';
    throw answerError(
      answer,
      `Twilio WhatsApp ${answer.status}${code}: ${(body?.message ?? (answer.ok ? 'an answer without a message sid' : 'no detail')).slice(0, 300)}`,
    );
  }
}
