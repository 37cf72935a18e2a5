// The SMS channel's settings: its variables (zod) and its part of HeraldConfig. It lives with the channel;
// src/config/env.ts composes it with the other concerns and runs the checks that span them.

import { z } from 'zod';
import type { ProviderVariables } from '../../config/providers';
import { optionalString } from '../../config/zod-helpers';

/** The SMS channel's default: Twilio when an account and a sender are set, else the outbox. */
export const smsVariables = z.object({
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString.refine(
    (value) => value === undefined || /^(\+[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/.test(value),
    'TWILIO_FROM must be an E.164 number (+14155550100) or an alphanumeric sender id of up to 11 characters',
  ),
  TWILIO_MESSAGING_SERVICE_SID: optionalString.refine(
    (value) => value === undefined || /^MG[0-9a-fA-F]{32}$/.test(value),
    'TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits',
  ),
  TWILIO_BASE_URL: z.url({ error: 'TWILIO_BASE_URL must be a URL such as https://api.twilio.com' }).optional(),
  HERALD_SMS_PROVIDER: z.enum(['twilio', 'outbox'], { error: 'HERALD_SMS_PROVIDER must be twilio or outbox' }).optional(),
});

export type SmsVariables = z.infer<typeof smsVariables>;

export interface SmsConfig {
  sms: {
    /** Explicit HERALD_SMS_PROVIDER, else twilio when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) are set, else the outbox. */
    provider: 'twilio' | 'outbox';
    accountSid?: string;
    /** A secret: never logged or returned. */
    authToken?: string;
    from?: string;
    messagingServiceSid?: string;
    /** Twilio's API root (https://api.twilio.com); tests point it at a fake on loopback. */
    baseUrl?: string;
    providerTimeoutMs: number;
  };
}

export function smsConfig(e: SmsVariables & ProviderVariables): SmsConfig {
  return {
    sms: {
      provider:
        e.HERALD_SMS_PROVIDER ?? (e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && (e.TWILIO_FROM || e.TWILIO_MESSAGING_SERVICE_SID) ? 'twilio' : 'outbox'),
      ...(e.TWILIO_ACCOUNT_SID && { accountSid: e.TWILIO_ACCOUNT_SID }),
      ...(e.TWILIO_AUTH_TOKEN && { authToken: e.TWILIO_AUTH_TOKEN }),
      ...(e.TWILIO_FROM && { from: e.TWILIO_FROM }),
      ...(e.TWILIO_MESSAGING_SERVICE_SID && { messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID }),
      ...(e.TWILIO_BASE_URL && { baseUrl: e.TWILIO_BASE_URL }),
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    },
  };
}
