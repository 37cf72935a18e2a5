import { z } from 'zod';
import type { HttpVariables } from './http';
import { optionalString, wholeNumber } from './zod-helpers';

/**
 * Engagement tracking: where the public reaches the API (tracked links point there), the key
 * their tokens are signed with, and the per-address rate of the public /t/* endpoints.
 */
export const trackingVariables = z.object({
  HERALD_PUBLIC_URL: optionalString.superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : publicUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `HERALD_PUBLIC_URL ${problem}` });
  }),
  // Never echo the value: it is a secret.
  HERALD_TRACKING_SECRET: optionalString.refine(
    (value) => value === undefined || value.split(',').every((secret) => secret.trim().length >= 32),
    'HERALD_TRACKING_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`); to rotate, list the new one first: new,old',
  ),
  HERALD_TRACKING_RATE_LIMIT: wholeNumber('HERALD_TRACKING_RATE_LIMIT', 100, 1, 1_000_000, 'requests per second per client address'),
});

export type TrackingVariables = z.infer<typeof trackingVariables>;

export interface TrackingConfig {
  /** HERALD_PUBLIC_URL without a trailing slash: where the public reaches the API (tracked links, the ready cURL). */
  publicUrl: string;
  /** Engagement tracking: HMAC keys for tokens (the first signs; none when unset) and the public endpoints' rate per client address. Secrets: never logged. */
  tracking: { secrets: string[]; perSecond: number };
}

/** HOST and PORT: the public URL defaults to the API's own address. */
export function trackingConfig(e: TrackingVariables & Pick<HttpVariables, 'HOST' | 'PORT'>): TrackingConfig {
  return {
    publicUrl: publicUrl(e.HERALD_PUBLIC_URL, e.HOST, e.PORT),
    tracking: {
      secrets: (e.HERALD_TRACKING_SECRET ?? '')
        .split(',')
        .map((secret) => secret.trim())
        .filter(Boolean),
      perSecond: e.HERALD_TRACKING_RATE_LIMIT,
    },
  };
}

/** Why HERALD_PUBLIC_URL is not usable as the base of tracked links, or undefined when it is. */
function publicUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://herald.example.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    return 'must not have a query or a fragment (a path prefix such as https://example.com/herald is fine)';
  return undefined;
}

/** The public base URL without a trailing slash; by default the API's own address (loopback for a wildcard HOST). */
function publicUrl(value: string | undefined, host: string, port: number): string {
  if (value !== undefined) {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  const reachable = ['0.0.0.0', '::', '[::]'].includes(host) ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}
