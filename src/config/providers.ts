import { z } from 'zod';

/** What every delivery channel's provider calls share (email, SMS and push). */
export const providerVariables = z.object({
  PROVIDER_TIMEOUT_MS: z.coerce
    .number({ error: 'PROVIDER_TIMEOUT_MS must be a number of milliseconds, e.g. 10000' })
    .int()
    .min(100, 'PROVIDER_TIMEOUT_MS must be at least 100')
    .max(25_000, 'PROVIDER_TIMEOUT_MS must stay below the 30 s send activity timeout')
    .default(10_000),
});

export type ProviderVariables = z.infer<typeof providerVariables>;
