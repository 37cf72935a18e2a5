/**
 * The messages Herald posts to a customer's feedback webhook, in the Standard Webhooks shape
 * `{type, timestamp, data}`. One event: `type` is `message.<event>` (`message.sent`,
 * `message.bounced`, …). Several events that piled up go in one request: `type` is
 * `message.batch` and `data.events` holds the single-event messages, each with its own `id`
 * (`evt_<n>`, stable across retries: deduplicate on it, delivery is at least once). A channel
 * configuration's circuit breaker changes are `provider.circuit-opened` and `provider.circuit-closed`.
 */

/** Where a failed or excluded delivery's reason came from. */
export type FailureCategory = 'provider' | 'recipient' | 'execution';

export interface FailureDetail {
  category: FailureCategory;
  /** The stable part of the reason (`provider-rejected`, `no-consent`, `suppressed`, …). */
  code: string;
  /** The whole reason, cut to 500 characters. */
  reason: string;
}

/** Herald's delivery reasons read `code: detail` or just `code`. */
export function failureDetail(category: FailureCategory, reason: string): FailureDetail {
  const separator = reason.indexOf(':');
  const code = (separator > 0 ? reason.slice(0, separator) : reason).trim().slice(0, 100);
  return { category, code, reason: reason.slice(0, 500) };
}

/** A stored event with the delivery facts the payload carries (joined at delivery time). */
export interface FeedbackEventFacts {
  id: number;
  type: string;
  occurredAt: string;
  executionId: string;
  position: number;
  requestId: string | null;
  campaignId: string | null;
  campaignVersion: number | null;
  userId: string | null;
  channel: string | null;
  detail?: { category?: string; code?: string; reason?: string; bounceType?: string; url?: string; configurationId?: string; provider?: string };
}

export interface FeedbackMessage {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export const feedbackEventId = (id: number) => `evt_${id}`;

/** The events that are failures: they carry `failure: {category, code, reason}`. */
const FAILURES = new Set(['failed', 'excluded', 'bounced', 'complained']);

/**
 * A failure's category, code and reason. Provider feedback comes with the provider's raw reason
 * only: its code says what it is (`hard-bounce`, `soft-bounce`, `complaint`).
 */
function failureOf(event: FeedbackEventFacts): { category: string | null; code: string | null; reason: string | null } | undefined {
  const { category, code, reason, bounceType } = event.detail ?? {};
  if (!FAILURES.has(event.type) && code === undefined) return undefined;
  const providerCode = event.type === 'bounced' ? `${bounceType ?? 'unknown'}-bounce` : event.type === 'complained' ? 'complaint' : null;
  return { category: category ?? (providerCode ? 'provider' : null), code: code ?? providerCode, reason: reason ?? null };
}

/**
 * A provider event (`provider.circuit-opened`, `provider.circuit-closed`): about a channel
 * configuration, not a message, so its type has no `message.` prefix; it names the message whose
 * send changed the circuit, which is how campaign-limited endpoints see it.
 */
function providerMessage(event: FeedbackEventFacts, attempt: number): FeedbackMessage {
  return {
    type: event.type,
    timestamp: event.occurredAt,
    data: {
      id: feedbackEventId(event.id),
      event: event.type,
      configurationId: event.detail?.configurationId ?? null,
      provider: event.detail?.provider ?? null,
      channel: event.channel,
      campaignId: event.campaignId,
      executionId: event.executionId,
      position: event.position,
      attempt,
    },
  };
}

/** One event as a Standard Webhooks message; `attempt` counts the requests that tried to deliver it. */
export function feedbackMessage(event: FeedbackEventFacts, attempt: number): FeedbackMessage {
  if (event.type.startsWith('provider.')) return providerMessage(event, attempt);
  const { bounceType, url } = event.detail ?? {};
  const failure = failureOf(event);
  return {
    type: `message.${event.type}`,
    timestamp: event.occurredAt,
    data: {
      id: feedbackEventId(event.id),
      event: event.type,
      requestId: event.requestId,
      executionId: event.executionId,
      campaignId: event.campaignId,
      campaignVersion: event.campaignVersion,
      userId: event.userId,
      channel: event.channel,
      position: event.position,
      attempt,
      ...(failure && { failure }),
      ...(bounceType !== undefined && { bounceType }),
      ...(url !== undefined && { url }),
    },
  };
}

/** The body of one request: the message itself for one event, a `message.batch` for several. */
export function feedbackRequestBody(events: FeedbackEventFacts[], attempt: number, now: Date): FeedbackMessage {
  if (events.length === 1) return feedbackMessage(events[0]!, attempt);
  return { type: 'message.batch', timestamp: now.toISOString(), data: { attempt, events: events.map((event) => feedbackMessage(event, attempt)) } };
}

/** The `test` event POST /v1/webhooks/{id}/test sends. */
export function testMessage(endpointId: string, now: Date): FeedbackMessage {
  return { type: 'message.test', timestamp: now.toISOString(), data: { endpointId, attempt: 1 } };
}
