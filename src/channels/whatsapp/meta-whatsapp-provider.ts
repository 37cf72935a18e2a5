import { providerError } from '../provider-errors';
import { answerError, callProvider, jsonOrUndefined } from '../provider-http';
import type { WhatsAppMessage, WhatsAppProvider } from './whatsapp-provider';

export const META_GRAPH_API = 'https://graph.facebook.com';

/** The Graph API's error body: `{error: {message, type, code, error_subcode, fbtrace_id}}`. */
interface MetaError {
  error?: { message?: string; code?: number; error_subcode?: number };
}

/**
 * Error codes that may succeed later even on a 400: rate limits (4 app, 80007 account, 130429
 * throughput, 131056 per recipient pair) and Meta's own trouble (1 unknown, 2 service, 131000
 * something went wrong, 131016 service unavailable, 133004 server unavailable).
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004]);

/**
 * WhatsApp's Cloud API, called with fetch: `POST /{version}/{phone-number-id}/messages` with a
 * Bearer token (a system user's access token), JSON `{messaging_product: "whatsapp", to, type}`
 * with `text: {body}` for a session message or `template: {name, language: {code}, components:
 * [{type: "body", parameters: [{type: "text", text}]}]}` for an approved one. Success is 200
 * `{messages: [{id: "wamid…"}]}`. A base URL (META_WHATSAPP_BASE_URL) lets tests talk to a fake.
 *
 * 429, 5xx, the retryable codes above and network errors are retried (after Retry-After when the
 * answer has one); every other answer is a permanent refusal (131026 undeliverable, 131047 outside
 * the 24-hour session, 132001 no such template, 190 an expired token). No idempotency key: see
 * docs/whatsapp.md for the guarantee.
 */
export class MetaWhatsAppProvider implements WhatsAppProvider {
  readonly name = 'meta';
  private readonly url: string;
  private readonly authorization: string;

  constructor(
    phoneNumberId: string,
    accessToken: string,
    apiVersion: string,
    baseUrl: string | undefined,
    /** A hung call is abandoned (and retried) long before the activity times out. */
    private readonly timeoutMs: number,
  ) {
    this.url = `${(baseUrl ?? META_GRAPH_API).replace(/\/$/, '')}/${encodeURIComponent(apiVersion)}/${encodeURIComponent(phoneNumberId)}/messages`;
    this.authorization = `Bearer ${accessToken}`;
  }

  async send(message: WhatsAppMessage): Promise<{ messageId: string }> {
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: message.to,
      ...(message.template
        ? {
            type: 'template',
            template: {
              name: message.template.name,
              language: { code: message.template.language },
              ...(message.template.parameters.length > 0 && {
                components: [{ type: 'body', parameters: message.template.parameters.map((text) => ({ type: 'text', text })) }],
              }),
            },
          }
        : { type: 'text', text: { body: message.body ?? '', preview_url: false } }),
    };
    const headers = { authorization: this.authorization, 'content-type': 'application/json', accept: 'application/json' };
    const answer = await callProvider('Meta WhatsApp', this.url, { method: 'POST', headers, body: JSON.stringify(payload) }, this.timeoutMs);
    const body = jsonOrUndefined<MetaError & { messages?: { id?: string }[] }>(answer.text);
    const id = body?.messages?.[0]?.id;
    if (answer.ok && typeof id === 'string') return { messageId: id };
    const code = body?.error?.code;
    const detail = `Meta WhatsApp ${answer.status}${code !== undefined ? ` ${code}` : ''}: ${(body?.error?.message ?? (answer.ok ? 'an answer without a message id' : 'no detail')).slice(0, 300)}`;
    if (code !== undefined && RETRYABLE_CODES.has(code)) throw providerError(true, detail, answer.headers.get('retry-after'));
    throw answerError(answer, detail);
  }
}
