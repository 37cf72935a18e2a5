import { randomBytes } from 'node:crypto';
import { jsonBody, keepingMessages, startFakeChatServer, type FakeChatFault, type FakeChatRequest, type FakeChatWebhook } from './fake-chat-server';

/**
 * A fake Slack on loopback, for tests that point Herald at it: the Web API's
 * `POST /api/chat.postMessage` (SLACK_BASE_URL = `<url>/api/`) and an incoming webhook
 * (`<url>/services/T…/B…/…`, the configuration's webhook URL).
 *
 * What it copies from Slack:
 * - chat.postMessage takes a bot token as `Authorization: Bearer xoxb-…` and JSON or form fields
 *   `channel`, `text`, `blocks`; it answers 200 with `{ok: true, channel, ts, message}`, and 200
 *   `{ok: false, error}` for its refusals (invalid_auth, channel_not_found, no_text).
 * - an incoming webhook answers 200 `ok`, and its refusals as text: 400 invalid_payload, 404
 *   no_service.
 * - 429 carries Retry-After in seconds; no idempotency: every accepted request is a new message.
 */

export interface FakeSlackMessage {
  via: 'api' | 'webhook';
  channel: string;
  text: string;
  blocks?: unknown[];
  ts: string;
}

export interface FakeSlack extends FakeChatWebhook<FakeSlackMessage> {
  botToken: string;
  /** SLACK_BASE_URL for Herald. */
  apiUrl: string;
}

/** The channel the fake's incoming webhook posts to. */
export const WEBHOOK_CHANNEL = 'C0WEBHOOK';
const WEBHOOK_PATH = '/services/T0000TEST/B0000TEST/webhooksecret';

/** Slack's own answer to each fault: a 429 with Retry-After, a 5xx, or the refusal of the call's kind. */
function slackFault(fault: Exclude<FakeChatFault, { mode: 'timeout' }>, request: FakeChatRequest) {
  const webhook = request.path.startsWith('/services/');
  if (fault.mode === 'rate-limited')
    return { status: 429, body: webhook ? 'rate_limited' : { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(fault.retryAfterSeconds) } };
  if (fault.mode === 'unavailable') return { status: fault.status ?? 500, body: webhook ? 'internal_error' : { ok: false, error: 'internal_error' } };
  return webhook ? { status: 404, body: 'no_service' } : { status: 200, body: { ok: false, error: 'channel_not_found' } };
}

export async function startFakeSlack(options: { botToken?: string } = {}): Promise<FakeSlack> {
  const botToken = options.botToken ?? 'xoxb-test-token';
  const messages: FakeSlackMessage[] = [];
  const ts = () => `${Math.floor(Date.now() / 1000)}.${randomBytes(3).readUIntBE(0, 3).toString().padStart(6, '0')}`;

  const server = await startFakeChatServer({
    fault: slackFault,
    answer(request) {
      // The SDK posts JSON when an argument is an object (blocks), else a form.
      const fields = typeof request.body === 'string' ? Object.fromEntries(new URLSearchParams(request.body)) : (jsonBody(request) as Record<string, unknown>);
      const blocks = typeof fields.blocks === 'string' ? (JSON.parse(fields.blocks) as unknown[]) : (fields.blocks as unknown[] | undefined);
      const text = typeof fields.text === 'string' ? fields.text : '';
      if (request.path === WEBHOOK_PATH) {
        if (request.method !== 'POST' || (!text && !blocks)) return { status: 400, body: 'invalid_payload' };
        messages.push({ via: 'webhook', channel: WEBHOOK_CHANNEL, text, ...(blocks && { blocks }), ts: ts() });
        return { status: 200, body: 'ok' };
      }
      if (request.path.startsWith('/services/')) return { status: 404, body: 'no_service' };
      if (request.path !== '/api/chat.postMessage') return { status: 404, body: { ok: false, error: 'unknown_method' } };
      if (request.headers.authorization !== `Bearer ${botToken}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
      const channel = typeof fields.channel === 'string' ? fields.channel : '';
      if (!channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
      if (!text && !blocks) return { status: 200, body: { ok: false, error: 'no_text' } };
      const message: FakeSlackMessage = { via: 'api', channel, text, ...(blocks && { blocks }), ts: ts() };
      messages.push(message);
      return { status: 200, body: { ok: true, channel, ts: message.ts, message: { type: 'message', text, ts: message.ts } } };
    },
  });
  return keepingMessages(server, messages, { botToken, apiUrl: `${server.url}/api/`, webhookUrl: `${server.url}${WEBHOOK_PATH}` });
}
