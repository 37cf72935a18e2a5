import type { Context } from 'hono';
import { Problem, problemResponse } from '../problem';
import { clientAddressKey, type FailedAuthLimiter } from './rate-limit';

/** An Authorization: Bearer header's shape: the scheme, then one token. */
export const BEARER = /^Bearer[ \t]+(\S+)$/i;

/** 401 with the challenge of `realm` (`herald` for API keys, `herald-inbox` for subscriber tokens). */
export const unauthorized = (realm: string, detail: string, error?: 'invalid_token') =>
  new Problem(401, 'unauthorized', 'Authentication required', detail, undefined, {
    'www-authenticate': `Bearer realm="${realm}"${error ? `, error="${error}"` : ''}`,
  });

/**
 * Refuses a wrong credential (an API key, a subscriber token): 429 while this address has sent too
 * many wrong ones within a minute, else 401, counting this one. Only wrong credentials are counted,
 * after the credential itself was checked, so a valid one is never locked out by its neighbours.
 */
export async function refuseWrongCredential(
  c: Context,
  failures: FailedAuthLimiter,
  { realm, wrong, note = '', detail }: { realm: string; wrong: string; note?: string; detail: string },
): Promise<Response> {
  const address = clientAddressKey(c);
  const retryAfter = await failures.retryAfterSeconds(address);
  if (retryAfter > 0) {
    return problemResponse(
      c,
      new Problem(
        429,
        'too-many-failed-authentications',
        'Too many failed authentications',
        `This address sent ${failures.perMinute} wrong ${wrong} within a minute; retry after ${retryAfter} s.${note}`,
        undefined,
        { 'retry-after': String(retryAfter) },
      ),
    );
  }
  await failures.recordFailure(address);
  return problemResponse(c, unauthorized(realm, detail, 'invalid_token'));
}
