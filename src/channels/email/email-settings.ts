// The email channel's settings: its variables (zod) and its part of HeraldConfig. It lives with the channel;
// src/config/env.ts composes it with the other concerns and runs the checks that span them.

import { z } from 'zod';
import type { ProviderVariables } from '../../config/providers';
import { optionalString } from '../../config/zod-helpers';

/** The email channel's default: Resend when its key is set, else the outbox. */
export const emailVariables = z.object({
  RESEND_API_KEY: optionalString,
  RESEND_BASE_URL: z.url({ error: 'RESEND_BASE_URL must be a URL such as https://api.resend.com' }).optional(),
  EMAIL_FROM: z.string().min(3).default('Herald <herald@localhost.localdomain>'),
  HERALD_EMAIL_PROVIDER: z.enum(['resend', 'outbox'], { error: 'HERALD_EMAIL_PROVIDER must be resend or outbox' }).optional(),
});

export type EmailVariables = z.infer<typeof emailVariables>;

export interface EmailConfig {
  email: {
    /** Which provider delivers email: explicit HERALD_EMAIL_PROVIDER, else resend when RESEND_API_KEY is set, else the outbox. */
    provider: 'resend' | 'outbox';
    resendApiKey?: string;
    resendBaseUrl?: string;
    from: string;
    providerTimeoutMs: number;
  };
}

export function emailConfig(e: EmailVariables & ProviderVariables): EmailConfig {
  return {
    email: {
      provider: e.HERALD_EMAIL_PROVIDER ?? (e.RESEND_API_KEY ? 'resend' : 'outbox'),
      resendApiKey: e.RESEND_API_KEY,
      resendBaseUrl: e.RESEND_BASE_URL,
      from: e.EMAIL_FROM,
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    },
  };
}
