import type { ChatProvider } from './chat-provider';
import { IdlessWebhookProvider } from './chat-webhook';

/**
 * A Slack incoming webhook (hooks.slack.com/services/…, named by the configuration's
 * `webhookUrlEnv`): `{text, blocks}` to the channel the webhook was made for. It answers `ok` and
 * no id, so the message id is Herald's idempotency key. 400 invalid_payload, 403, 404 no_service
 * and 410 channel_is_archived are refused for good; 429 (Retry-After) and 5xx are retried.
 */
export function slackWebhookProvider(url: URL, timeoutMs: number): ChatProvider {
  return new IdlessWebhookProvider('slack', 'Slack webhook', 'slack-webhook', url, timeoutMs, (message) => ({
    text: message.text,
    ...(message.blocks && { blocks: message.blocks }),
  }));
}
