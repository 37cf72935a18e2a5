import { z } from 'zod';
import { optionalString, wholeNumber } from './zod-helpers';

/** Provider events in (POST /webhooks/resend, /webhooks/twilio*). */
export const providerEventVariables = z.object({
  // The signing secret of the Resend webhook. Never echo it.
  RESEND_WEBHOOK_SECRET: optionalString.refine(
    (value) => value === undefined || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(value),
    "RESEND_WEBHOOK_SECRET must be the webhook's signing secret as Resend shows it: whsec_ followed by base64",
  ),
  HERALD_PROVIDER_EVENTS_RATE_LIMIT: wholeNumber(
    'HERALD_PROVIDER_EVENTS_RATE_LIMIT',
    500,
    1,
    1_000_000,
    'requests per second per client address on /webhooks/resend and /webhooks/twilio',
  ),
});

export type ProviderEventVariables = z.infer<typeof providerEventVariables>;

export interface ProviderEventConfig {
  /** Provider events in (/webhooks/resend, /webhooks/twilio): Resend's signing secret (absent: that endpoint refuses everything) and the rate per client address. Twilio's are verified with TWILIO_AUTH_TOKEN (sms.authToken). */
  providerEvents: { resendWebhookSecret?: string; perSecond: number };
}

export function providerEventConfig(e: ProviderEventVariables): ProviderEventConfig {
  return {
    providerEvents: { ...(e.RESEND_WEBHOOK_SECRET && { resendWebhookSecret: e.RESEND_WEBHOOK_SECRET }), perSecond: e.HERALD_PROVIDER_EVENTS_RATE_LIMIT },
  };
}
