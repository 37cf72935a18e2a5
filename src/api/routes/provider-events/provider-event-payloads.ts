import { z } from '@hono/zod-openapi';
import { cutDetail, resendBounceType, twilioBounceType, type ProviderEvent } from '../../../domain/provider-feedback';

/**
 * Provider payloads into ProviderEvents. Only what Herald reads is checked; anything else in the
 * payload is left alone, so a provider adding fields changes nothing. Undefined: an event Herald
 * does not track (acknowledged and ignored).
 */

const RESEND_TYPES = {
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'delayed',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
} as const satisfies Record<string, ProviderEvent['type']>;

const optionalText = z.string().max(100_000).optional();
const ResendPayload = z.object({
  type: z.string(),
  created_at: optionalText,
  data: z.object({
    email_id: z.string().min(1).max(256),
    created_at: optionalText,
    bounce: z.object({ type: optionalText, subType: optionalText, message: optionalText }).optional(),
    click: z.object({ link: optionalText, userAgent: optionalText, timestamp: optionalText }).optional(),
  }),
});

/** An ISO instant as given, else now (the time Herald heard of it). */
function instant(value: string | undefined): string {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? new Date().toISOString() : new Date(ms).toISOString();
}

/** A verified Resend event (`svixId` is its id); undefined when Herald does not track its type or it names no email. */
export function resendEvent(payload: unknown, svixId: string): ProviderEvent | undefined {
  const parsed = ResendPayload.safeParse(payload);
  if (!parsed.success) return undefined;
  const { type, created_at, data } = parsed.data;
  const mapped = (RESEND_TYPES as Record<string, ProviderEvent['type']>)[type];
  if (!mapped) return undefined;
  const base = {
    channel: 'email' as const,
    messageId: data.email_id,
    providerEventId: `resend:${svixId}`,
    type: mapped,
    occurredAt: instant(data.click?.timestamp ?? created_at),
  };
  if (mapped === 'bounced') {
    const bounce = data.bounce ?? {};
    const detail = cutDetail([bounce.type, bounce.subType].filter(Boolean).join('/') + (bounce.message ? `: ${bounce.message}` : ''));
    return { ...base, bounceType: resendBounceType(bounce.type), ...(detail !== undefined && { detail }) };
  }
  if (mapped === 'clicked') {
    return { ...base, ...(data.click?.link && { url: data.click.link.slice(0, 2048) }), ...(data.click?.userAgent && { userAgent: data.click.userAgent }) };
  }
  return base;
}

/** Twilio's status callback parameters that matter here. */
const TwilioStatus = z.object({
  // Twilio's are SM/MM + 32 hex; any id up to 64 characters is matched against deliveries (the outbox's too).
  MessageSid: z.string().min(1).max(64),
  MessageStatus: z.string().max(32),
  ErrorCode: z.string().max(16).optional(),
  ErrorMessage: z.string().max(2000).optional(),
});

/** A verified Twilio status callback; undefined for statuses that say nothing after the send (queued, sending, sent…). */
export function twilioEvent(params: Record<string, string>): ProviderEvent | undefined {
  const parsed = TwilioStatus.safeParse(params);
  if (!parsed.success) return undefined;
  const { MessageSid, MessageStatus, ErrorCode, ErrorMessage } = parsed.data;
  // Twilio has no event id: a status is reported once per message, so (sid, status) names the event.
  const base = {
    channel: 'sms' as const,
    messageId: MessageSid,
    providerEventId: `twilio:${MessageSid}:${MessageStatus}`,
    occurredAt: new Date().toISOString(),
  };
  if (MessageStatus === 'delivered') return { ...base, type: 'delivered' };
  if (MessageStatus !== 'undelivered' && MessageStatus !== 'failed') return undefined;
  const code = ErrorCode && ErrorCode !== '0' ? ErrorCode : undefined;
  const detail = cutDetail(`${MessageStatus}${code ? ` ${code}` : ''}${ErrorMessage ? `: ${ErrorMessage}` : ''}`);
  return { ...base, type: 'bounced', bounceType: twilioBounceType(code), ...(detail !== undefined && { detail }) };
}
