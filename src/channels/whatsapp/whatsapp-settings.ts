// The WhatsApp channel's settings: its variables (zod) and its part of HeraldConfig. It lives with
// the channel; src/config/env.ts composes it with the other concerns. Twilio's account and API root
// are SMS's (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_BASE_URL): one Twilio account sends both.

import { z } from 'zod';
import type { ProviderVariables } from '../../config/providers';
import { optionalString } from '../../config/zod-helpers';
import type { SmsVariables } from '../sms/sms-settings';

/** The WhatsApp channel's default: Meta's Cloud API or Twilio when their variables are set, else the outbox. */
export const whatsappVariables = z.object({
  HERALD_WHATSAPP_PROVIDER: z.enum(['twilio', 'meta', 'outbox'], { error: 'HERALD_WHATSAPP_PROVIDER must be twilio, meta or outbox' }).optional(),
  TWILIO_WHATSAPP_FROM: optionalString.refine(
    (value) => value === undefined || /^\+[1-9]\d{1,14}$/.test(value),
    'TWILIO_WHATSAPP_FROM must be the WhatsApp sender’s number in E.164 (+14155550100), without the whatsapp: prefix',
  ),
  META_WHATSAPP_PHONE_NUMBER_ID: optionalString.refine(
    (value) => value === undefined || /^\d{1,32}$/.test(value),
    'META_WHATSAPP_PHONE_NUMBER_ID must be the phone number id (digits) from the WhatsApp Manager',
  ),
  META_WHATSAPP_ACCESS_TOKEN: optionalString,
  META_WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d{1,3}\.\d{1,3}$/, 'META_WHATSAPP_API_VERSION must be a Graph API version such as v21.0')
    .default('v21.0'),
  META_WHATSAPP_BASE_URL: z.url({ error: 'META_WHATSAPP_BASE_URL must be a URL such as https://graph.facebook.com' }).optional(),
});

export type WhatsAppVariables = z.infer<typeof whatsappVariables>;

export interface WhatsAppConfig {
  whatsapp: {
    /** Explicit HERALD_WHATSAPP_PROVIDER, else meta when its phone number id and token are set, else twilio when the account and TWILIO_WHATSAPP_FROM are, else the outbox. */
    provider: 'twilio' | 'meta' | 'outbox';
    twilio: {
      accountSid?: string;
      /** A secret: never logged or returned. */
      authToken?: string;
      from?: string;
      /** Twilio's API root, shared with SMS (TWILIO_BASE_URL). */
      baseUrl?: string;
    };
    meta: {
      phoneNumberId?: string;
      /** A secret: never logged or returned. */
      accessToken?: string;
      apiVersion: string;
      /** The Graph API's root (https://graph.facebook.com); tests point it at a fake on loopback. */
      baseUrl?: string;
    };
    providerTimeoutMs: number;
  };
}

export function whatsappConfig(
  e: WhatsAppVariables & Pick<SmsVariables, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_BASE_URL'> & ProviderVariables,
): WhatsAppConfig {
  const meta = Boolean(e.META_WHATSAPP_PHONE_NUMBER_ID && e.META_WHATSAPP_ACCESS_TOKEN);
  const twilio = Boolean(e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_WHATSAPP_FROM);
  return {
    whatsapp: {
      provider: e.HERALD_WHATSAPP_PROVIDER ?? (meta ? 'meta' : twilio ? 'twilio' : 'outbox'),
      twilio: {
        ...(e.TWILIO_ACCOUNT_SID && { accountSid: e.TWILIO_ACCOUNT_SID }),
        ...(e.TWILIO_AUTH_TOKEN && { authToken: e.TWILIO_AUTH_TOKEN }),
        ...(e.TWILIO_WHATSAPP_FROM && { from: e.TWILIO_WHATSAPP_FROM }),
        ...(e.TWILIO_BASE_URL && { baseUrl: e.TWILIO_BASE_URL }),
      },
      meta: {
        ...(e.META_WHATSAPP_PHONE_NUMBER_ID && { phoneNumberId: e.META_WHATSAPP_PHONE_NUMBER_ID }),
        ...(e.META_WHATSAPP_ACCESS_TOKEN && { accessToken: e.META_WHATSAPP_ACCESS_TOKEN }),
        apiVersion: e.META_WHATSAPP_API_VERSION,
        ...(e.META_WHATSAPP_BASE_URL && { baseUrl: e.META_WHATSAPP_BASE_URL }),
      },
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    },
  };
}
