import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { Problem, problemResponse } from '../problem';

function matches(candidate: string, keys: Buffer[]): boolean {
  const given = Buffer.from(candidate);
  // Compare against every key so timing reveals neither which key nor how much matched.
  return keys.reduce((found, key) => (key.length === given.length && timingSafeEqual(key, given)) || found, false);
}

/** Requires `Authorization: Bearer <key>` with one of HERALD_API_KEYS. */
export function apiKeyAuth(apiKeys: string[]): MiddlewareHandler {
  const keys = apiKeys.map((key) => Buffer.from(key));
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !matches(match[1]!, keys)) {
      return problemResponse(
        c,
        new Problem(401, 'unauthorized', 'Authentication required', 'Send Authorization: Bearer <key> with one of the keys in HERALD_API_KEYS.', undefined, { 'www-authenticate': 'Bearer realm="herald"' }),
      );
    }
    await next();
  };
}
