import { z } from 'zod';
import { optionalString, port, wholeNumber } from './zod-helpers';

/** Where the API listens, its bootstrap keys, and how often a key or a client address may call it. */
export const httpVariables = z.object({
  PORT: port('PORT', 3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  HERALD_API_KEYS: optionalString,
  HERALD_RATE_LIMIT: z.coerce
    .number({ error: 'HERALD_RATE_LIMIT must be a number of calls per second, e.g. 500' })
    .int()
    .min(1, 'HERALD_RATE_LIMIT must be at least 1')
    .default(500),
  HERALD_RATE_LIMITS: optionalString.refine(
    (value) => value === undefined || value.split(',').every((pair) => /^[^=]+=\d+$/.test(pair.trim())),
    'HERALD_RATE_LIMITS must look like key-one=1000,key-two=50 (calls per second per API key)',
  ),
  HERALD_AUTH_FAILURE_LIMIT: wholeNumber('HERALD_AUTH_FAILURE_LIMIT', 20, 1, 100_000, 'failed authentications per minute per client address'),
});

export type HttpVariables = z.infer<typeof httpVariables>;

export interface HttpConfig {
  http: {
    port: number;
    host: string;
    /** Bootstrap full-access keys from HERALD_API_KEYS; keys created over the API live in the database. */
    apiKeys: string[];
    rateLimit: { perSecond: number; perKey: Record<string, number> };
    /** Failed authentications allowed per client address per minute before 429. */
    authFailuresPerMinute: number;
  };
}

export function httpConfig(e: HttpVariables): HttpConfig {
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      apiKeys: (e.HERALD_API_KEYS ?? '')
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
      authFailuresPerMinute: e.HERALD_AUTH_FAILURE_LIMIT,
      rateLimit: {
        perSecond: e.HERALD_RATE_LIMIT,
        perKey: Object.fromEntries(
          (e.HERALD_RATE_LIMITS ?? '')
            .split(',')
            .filter((pair) => pair.includes('='))
            .map((pair) => {
              const [key, rate] = pair.trim().split('=') as [string, string];
              return [key.trim(), Number(rate)];
            }),
        ),
      },
    },
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}
