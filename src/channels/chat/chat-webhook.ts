import { isLoopbackHost } from '../../config/http';
import { parseRetryAfter, ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import { callProvider, type ProviderAnswer } from '../provider-http';
import type { ChatMessage, ChatProvider } from './chat-provider';

/**
 * A webhook URL a configuration names (its `webhookUrlEnv`): a secret, so never stored or logged.
 * https only, except on loopback (the fakes of the tests). A wrong value is an outage, as a missing
 * variable is: the operator fixes it and restarts the worker, and the send is retried.
 */
export function webhookUrl(configurationId: string, name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProviderUnavailableError(`channel configuration ${configurationId}: ${name} is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(host)))
    throw new ProviderUnavailableError(`channel configuration ${configurationId}: ${name} must be an https URL`);
  return url;
}

/** 408 and 429, and the provider's own failures (5xx), may succeed later; every other status is refused for good. */
export function isRetryableChatStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A JSON POST to a chat webhook, its answer classified: 2xx is returned; 408, 429 (after
 * Retry-After) and 5xx are ProviderUnavailableError; other statuses ProviderRejectedError with
 * the answer's start; no answer (refused, reset, the timeout) is ProviderUnavailableError. The URL
 * never appears in an error: it is the secret.
 */
export async function postToWebhook(provider: string, url: URL, payload: unknown, timeoutMs: number): Promise<ProviderAnswer> {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const answer = await callProvider(provider, url.href, { method: 'POST', headers, body: JSON.stringify(payload), redirect: 'error' }, timeoutMs);
  if (answer.ok) return answer;
  const detail = `${provider} ${answer.status}: ${answer.text.replace(/\s+/g, ' ').slice(0, 300) || 'no detail'}`;
  if (isRetryableChatStatus(answer.status)) throw new ProviderUnavailableError(detail, parseRetryAfter(answer.headers.get('retry-after')));
  throw new ProviderRejectedError(detail);
}

/**
 * A chat webhook that answers no message id (Slack's incoming webhooks, Teams'): the message is
 * posted as `payloadOf` builds it, and its id is Herald's idempotency key under `idPrefix`.
 */
export class IdlessWebhookProvider implements ChatProvider {
  constructor(
    readonly name: string,
    private readonly label: string,
    private readonly idPrefix: string,
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly payloadOf: (message: ChatMessage) => unknown,
  ) {}

  async send(message: ChatMessage): Promise<{ messageId: string }> {
    await postToWebhook(this.label, this.url, this.payloadOf(message), this.timeoutMs);
    return { messageId: `${this.idPrefix}/${message.idempotencyKey}` };
  }
}
