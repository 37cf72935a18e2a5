import { jsonBody, keepingMessages, startFakeChatServer, type FakeChatWebhook } from './fake-chat-server';

/**
 * A fake Microsoft Teams webhook on loopback (an incoming webhook or a Workflows URL): `POST
 * <url>/workflows/…` with `{type: 'message', attachments: [{contentType:
 * 'application/vnd.microsoft.card.adaptive', content: {type: 'AdaptiveCard', body, …}}]}`.
 *
 * What it copies from Teams: 202 Accepted with an empty body for a card (a Workflows trigger);
 * 400 for a payload without an Adaptive Card; 404 for an unknown webhook; 429 with Retry-After
 * (seconds); 5xx. No message id and no idempotency.
 */

export interface FakeTeamsMessage {
  card: Record<string, unknown>;
}

export type FakeTeams = FakeChatWebhook<FakeTeamsMessage>;

const WEBHOOK_PATH = '/workflows/abc123/triggers/manual/paths/invoke';

export async function startFakeTeams(): Promise<FakeTeams> {
  const messages: FakeTeamsMessage[] = [];
  const server = await startFakeChatServer({
    fault(fault) {
      if (fault.mode === 'rate-limited')
        return { status: 429, body: { error: { code: 'TooManyRequests' } }, headers: { 'retry-after': String(fault.retryAfterSeconds) } };
      if (fault.mode === 'unavailable') return { status: fault.status ?? 502, body: { error: { code: 'BadGateway' } } };
      return { status: 404, body: { error: { code: 'WorkflowTriggerNotFound', message: 'The workflow was not found.' } } };
    },
    answer(request) {
      if (request.path !== WEBHOOK_PATH || request.method !== 'POST') return { status: 404, body: { error: { code: 'WorkflowTriggerNotFound' } } };
      const attachments = jsonBody(request).attachments;
      const attachment = Array.isArray(attachments) ? (attachments[0] as Record<string, unknown> | undefined) : undefined;
      const card = attachment?.content as Record<string, unknown> | undefined;
      if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive' || card?.type !== 'AdaptiveCard' || !Array.isArray(card.body))
        return { status: 400, body: { error: { code: 'InvalidRequestContent', message: 'The request content is not an Adaptive Card.' } } };
      messages.push({ card });
      return { status: 202 };
    },
  });
  return keepingMessages(server, messages, { webhookUrl: `${server.url}${WEBHOOK_PATH}` });
}
