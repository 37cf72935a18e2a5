import type { Channel } from './campaign';
import type { ChannelRules } from './channel-rules';

/**
 * What providers report after the send, in Herald's terms. Pure: the webhook routes translate a
 * provider's payload into a ProviderEvent, and the repository applies it.
 */

/** Where a delivery got to after the provider took it (`deliveries.feedback`). */
export type DeliveryFeedback = 'delayed' | 'delivered' | 'bounced' | 'complained';

/**
 * The order feedback moves in. An event that ranks no higher than what a delivery already has
 * changes nothing (it is still recorded as an event): a `delivered` that arrives after the
 * `bounced` does not undo the bounce, a complaint after delivery goes through.
 */
const FEEDBACK_RANK: Record<DeliveryFeedback, number> = { delayed: 1, delivered: 2, bounced: 3, complained: 4 };

export function feedbackMovesForward(current: DeliveryFeedback | null, next: DeliveryFeedback): boolean {
  return current === null || FEEDBACK_RANK[next] > FEEDBACK_RANK[current];
}

export type BounceType = 'hard' | 'soft';

/** One provider event, matched to a delivery by the provider's message id. */
export interface ProviderEvent {
  channel: Channel;
  messageId: string;
  /** Unique per event at the provider: the same id twice is a replay, recorded once. */
  providerEventId: string;
  type: DeliveryFeedback | 'opened' | 'clicked';
  occurredAt: string;
  bounceType?: BounceType;
  /** The provider's raw reason or error code, cut to MAX_DETAIL_CHARS. */
  detail?: string;
  /** A click's URL, as the provider reported it. */
  url?: string;
  userAgent?: string;
}

export const MAX_DETAIL_CHARS = 1024;

export function cutDetail(detail: string | undefined): string | undefined {
  if (detail === undefined || detail === '') return undefined;
  return detail.length > MAX_DETAIL_CHARS ? detail.slice(0, MAX_DETAIL_CHARS) : detail;
}

/** Why an address is on the suppression list. */
export const SUPPRESSION_REASONS = ['hard-bounce', 'complaint', 'manual', 'import'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** Hard bounces and complaints suppress the address; soft bounces and the rest do not. */
export function suppressionReasonOf(event: Pick<ProviderEvent, 'type' | 'bounceType'>): SuppressionReason | undefined {
  if (event.type === 'complained') return 'complaint';
  if (event.type === 'bounced' && event.bounceType === 'hard') return 'hard-bounce';
  return undefined;
}

/**
 * An address as the suppression list stores and compares it, by its channel's rules
 * (`normaliseFeedbackAddress`): email trimmed and lower-cased, SMS in E.164, push tokens as given.
 * Undefined: not an address of that channel.
 */
export function normaliseAddress(rules: Pick<ChannelRules, 'normaliseFeedbackAddress'>, address: string): string | undefined {
  const trimmed = address.trim();
  if (trimmed === '') return undefined;
  return rules.normaliseFeedbackAddress(trimmed);
}

/** Resend's `data.bounce.type`: `Permanent` is a hard bounce; `Transient` and `Undetermined` are soft. */
export function resendBounceType(type: unknown): BounceType {
  return typeof type === 'string' && type.toLowerCase() === 'permanent' ? 'hard' : 'soft';
}

/**
 * Twilio error codes that mean the number will never take a message: unknown handset (30005),
 * landline or unreachable carrier (30006), recipient blocked the sender (30004), opted out
 * (21610), not a valid or not a mobile number (21211, 21614). Everything else is soft,
 * including 30003 (handset switched off or out of coverage) and 30008 (unknown error), which
 * pass with time: suppressing on them would silence a reachable number for good.
 */
export const TWILIO_HARD_BOUNCE_CODES: ReadonlySet<string> = new Set(['30004', '30005', '30006', '21211', '21610', '21614']);

export function twilioBounceType(errorCode: string | undefined): BounceType {
  return errorCode !== undefined && TWILIO_HARD_BOUNCE_CODES.has(errorCode) ? 'hard' : 'soft';
}
