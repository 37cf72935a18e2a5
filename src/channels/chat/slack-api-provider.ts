import { type Logger, LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { parseRetryAfter, ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import type { ChatMessage, ChatProvider } from './chat-provider';
import { isRetryableChatStatus } from './chat-webhook';

export const SLACK_API = 'https://slack.com/api/';

/** Slack's `error` codes that say Slack itself failed, not the message: the same send may succeed later. */
const TRANSIENT_SLACK_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'rate_limited']);

/** The SDK logs through this: nothing, since every failure becomes an error Herald records. */
const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/**
 * Slack's Web API through the official SDK (`@slack/web-api`): `chat.postMessage` with a bot token
 * (xoxb-…) to a channel or user id (a user id opens the app's direct message). `slackApiUrl`
 * (SLACK_BASE_URL) lets tests talk to a fake on loopback. The SDK's own retries and rate-limit
 * waits are off: Herald retries, after the Retry-After Slack gave.
 *
 * Slack answers 200 with `ok: false` for most failures: its own (internal_error, fatal_error,
 * service_unavailable, request_timeout, ratelimited) may succeed later; the rest
 * (channel_not_found, not_in_channel, invalid_auth, msg_too_long, invalid_blocks…) are refused
 * for good. 429 (Retry-After), 408, 5xx and network errors are retried.
 */
export class SlackApiProvider implements ChatProvider {
  readonly name = 'slack';
  private readonly client: WebClient;

  constructor(botToken: string, baseUrl: string | undefined, timeoutMs: number) {
    this.client = new WebClient(botToken, {
      slackApiUrl: (baseUrl ?? SLACK_API).replace(/\/?$/, '/'),
      timeout: timeoutMs,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      allowAbsoluteUrls: false,
      logger: SILENT,
    });
  }

  async send(message: ChatMessage): Promise<{ messageId: string }> {
    if (message.destination === '')
      throw new ProviderRejectedError(
        "Slack chat.postMessage needs a channel or user id: give channelData.chat.destination, the profile's slackUserId or the configuration's defaultDestination",
      );
    try {
      const answer = await this.client.chat.postMessage({
        channel: message.destination,
        text: message.text,
        ...(message.blocks && { blocks: message.blocks as never }),
      });
      if (typeof answer.ts !== 'string') throw new ProviderUnavailableError('Slack ok without a message ts');
      return { messageId: `${answer.channel ?? message.destination}/${answer.ts}` };
    } catch (error) {
      throw slackError(error);
    }
  }
}

/** A failure of the SDK's call as the error Herald acts on. */
function slackError(error: unknown): unknown {
  if (error instanceof ProviderUnavailableError || error instanceof ProviderRejectedError) return error;
  if (error instanceof WebAPIRateLimitedError) return new ProviderUnavailableError('Slack 429: rate limited', error.retryAfter * 1000);
  if (error instanceof WebAPIPlatformError) {
    const code = String(error.data.error);
    return TRANSIENT_SLACK_ERRORS.has(code) ? new ProviderUnavailableError(`Slack ${code}`) : new ProviderRejectedError(`Slack ${code}`);
  }
  if (error instanceof WebAPIHTTPError) {
    const detail = `Slack ${error.statusCode}: ${String(error.body ?? error.statusMessage)
      .replace(/\s+/g, ' ')
      .slice(0, 300)}`;
    return isRetryableChatStatus(error.statusCode)
      ? new ProviderUnavailableError(detail, parseRetryAfter(error.headers['retry-after']))
      : new ProviderRejectedError(detail);
  }
  if (error instanceof WebAPIRequestError) {
    const cause = (error.original as { cause?: { code?: string } }).cause?.code;
    return new ProviderUnavailableError(`Slack unreachable: ${error.original.message}${cause ? ` (${cause})` : ''}`);
  }
  // The SDK's other failures (a 429 without Retry-After) are Slack's answers it could not read: try again later.
  return new ProviderUnavailableError(`Slack: ${error instanceof Error ? error.message : String(error)}`);
}
