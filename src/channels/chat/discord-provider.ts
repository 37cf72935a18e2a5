import { jsonOrUndefined } from '../provider-http';
import { ProviderUnavailableError } from '../provider-errors';
import type { ChatMessage, ChatProvider } from './chat-provider';
import { postToWebhook } from './chat-webhook';

/**
 * A Discord webhook (discord.com/api/webhooks/{id}/{token}, named by the configuration's
 * `webhookUrlEnv`), called with `?wait=true` so Discord answers the message and its id: `content`
 * is the text (at most 2000 characters), `embeds` the blocks (at most 10). Mentions in the
 * rendered text never ping anyone (`allowed_mentions: {parse: []}`). 429 (Retry-After) and 5xx
 * are retried; 400 (50006 empty message, 50035 invalid form) and 404 (10015 unknown webhook) are
 * refused for good.
 */
export class DiscordWebhookProvider implements ChatProvider {
  readonly name = 'discord';
  private readonly url: URL;

  constructor(
    url: URL,
    private readonly timeoutMs: number,
    private readonly username?: string,
  ) {
    this.url = new URL(url);
    this.url.searchParams.set('wait', 'true');
  }

  async send(message: ChatMessage): Promise<{ messageId: string }> {
    const payload = {
      content: message.text,
      ...(message.blocks && { embeds: message.blocks }),
      ...(this.username !== undefined && { username: this.username }),
      allowed_mentions: { parse: [] },
    };
    const answer = await postToWebhook('Discord', this.url, payload, this.timeoutMs);
    const id = jsonOrUndefined<{ id?: unknown }>(answer.text)?.id;
    // With wait=true Discord answers the message; without its id the message may not have been taken.
    if (typeof id !== 'string') throw new ProviderUnavailableError(`Discord ${answer.status}: an answer without a message id`);
    return { messageId: id };
  }
}
