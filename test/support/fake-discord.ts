import { jsonBody, keepingMessages, startFakeChatServer, type FakeChatWebhook } from './fake-chat-server';

/**
 * A fake Discord webhook on loopback: `POST <url>/api/webhooks/{id}/{token}` with `{content,
 * embeds, username, allowed_mentions}`.
 *
 * What it copies from Discord: with `?wait=true`, 200 and the message (`id` a snowflake, `content`,
 * `embeds`), else 204; 400 `{code: 50006}` for an empty message and `{code: 50035}` for content over
 * 2000 characters; 404 `{code: 10015, message: 'Unknown Webhook'}`; 429 with Retry-After and
 * `{retry_after}` in seconds; 5xx. No idempotency.
 */

export interface FakeDiscordMessage {
  id: string;
  content: string;
  embeds?: unknown[];
  username?: string;
  allowedMentions?: unknown;
}

export type FakeDiscord = FakeChatWebhook<FakeDiscordMessage>;

const WEBHOOK_PATH = '/api/webhooks/112233445566778899/webhook-token';

export async function startFakeDiscord(): Promise<FakeDiscord> {
  const messages: FakeDiscordMessage[] = [];
  let snowflake = 1_200_000_000_000_000_000n;
  const server = await startFakeChatServer({
    fault(fault) {
      if (fault.mode === 'rate-limited')
        return {
          status: 429,
          body: { message: 'You are being rate limited.', retry_after: fault.retryAfterSeconds, global: false },
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
        };
      if (fault.mode === 'unavailable') return { status: fault.status ?? 503, body: 'upstream connect error' };
      return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    },
    answer(request) {
      if (request.path !== WEBHOOK_PATH || request.method !== 'POST') return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      const body = jsonBody(request);
      const content = typeof body.content === 'string' ? body.content : '';
      const embeds = Array.isArray(body.embeds) ? body.embeds : undefined;
      if (!content && !embeds?.length) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
      if (content.length > 2000 || (embeds?.length ?? 0) > 10) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
      snowflake += 1n;
      const message: FakeDiscordMessage = {
        id: snowflake.toString(),
        content,
        ...(embeds && { embeds }),
        ...(typeof body.username === 'string' && { username: body.username }),
        allowedMentions: body.allowed_mentions,
      };
      messages.push(message);
      if (request.query.get('wait') !== 'true') return { status: 204 };
      return {
        status: 200,
        body: { id: message.id, type: 0, content, embeds: embeds ?? [], channel_id: '998877665544332211', webhook_id: '112233445566778899' },
      };
    },
  });
  return keepingMessages(server, messages, { webhookUrl: `${server.url}${WEBHOOK_PATH}` });
}
