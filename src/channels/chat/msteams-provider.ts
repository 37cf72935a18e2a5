import type { ChatMessage, ChatProvider } from './chat-provider';
import { IdlessWebhookProvider } from './chat-webhook';

/**
 * Microsoft Teams through an incoming webhook or a Workflows (Power Automate) URL, named by the
 * configuration's `webhookUrlEnv`: one Adaptive Card whose body is the message's blocks (Adaptive
 * Card elements), else the text as one TextBlock; the text is also the card's `fallbackText`.
 * Teams answers 200 or 202 and no id, so the message id is Herald's idempotency key. 429
 * (Retry-After) and 5xx are retried; 400, 403 and 404 are refused for good.
 */
export function teamsWebhookProvider(url: URL, timeoutMs: number): ChatProvider {
  return new IdlessWebhookProvider('msteams', 'Microsoft Teams', 'msteams', url, timeoutMs, adaptiveCardMessage);
}

/** The message as Teams' webhooks take a card: one attachment of content type adaptive card. */
export function adaptiveCardMessage(message: Pick<ChatMessage, 'text' | 'blocks'>): unknown {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          fallbackText: message.text,
          body: message.blocks ?? [{ type: 'TextBlock', text: message.text, wrap: true }],
        },
      },
    ],
  };
}
