import type { MiddlewareHandler } from 'hono';
import { OPEN_PRINCIPAL } from '../../domain/api-key';
import type {} from '../app-env'; // types c.var.principal
import { apiKeyAuthenticator } from '../../services/api-keys';
import type { ServiceDependencies } from '../../services/service-dependencies';
import { Problem, problemResponse } from '../problem';
import { clientAddressKey, type FailedAuthLimiter } from './rate-limit';

const BEARER = /^Bearer[ \t]+(\S+)$/i;

const unauthorized = (detail: string, error?: 'invalid_token') =>
  new Problem(401, 'unauthorized', 'Authentication required', detail, undefined, {
    'www-authenticate': `Bearer realm="herald"${error ? `, error="${error}"` : ''}`,
  });

/**
 * Authenticates every /v1 request and puts its principal on the context.
 *
 * - No Authorization header: 401, or full access when the API runs open (HERALD_API_KEYS unset,
 *   loopback only).
 * - Credentials presented: the key is checked first (in constant time, see apiKeyAuthenticator),
 *   and a valid key always passes, whatever its address did: behind a shared proxy or NAT one
 *   client's wrong keys must not lock out everyone else's right ones. Only a key that does not
 *   authenticate meets the per-address limit: 429 with Retry-After when its address failed too
 *   often recently (not counted again, so the address gets its next try on time), otherwise
 *   counted as a failure and 401. Open mode does not excuse a wrong key.
 */
export function authenticate(deps: ServiceDependencies, failures: FailedAuthLimiter): MiddlewareHandler {
  const authenticateToken = apiKeyAuthenticator(deps);
  const open = deps.config.http.apiKeys.length === 0;

  return async (c, next) => {
    const header = c.req.header('authorization')?.trim();
    if (!header) {
      if (!open) return problemResponse(c, unauthorized('Send Authorization: Bearer <key> with a key from HERALD_API_KEYS or from POST /v1/api-keys.'));
      c.set('principal', OPEN_PRINCIPAL);
      return next();
    }
    const token = BEARER.exec(header)?.[1];
    const principal = token === undefined ? undefined : await authenticateToken(token);
    if (principal) {
      c.set('principal', principal);
      return next();
    }
    const address = clientAddressKey(c);
    const retryAfter = await failures.retryAfterSeconds(address);
    if (retryAfter > 0) {
      return problemResponse(
        c,
        new Problem(
          429,
          'too-many-failed-authentications',
          'Too many failed authentications',
          `This address sent ${failures.perMinute} wrong keys within a minute; retry after ${retryAfter} s. A valid key is not limited.`,
          undefined,
          { 'retry-after': String(retryAfter) },
        ),
      );
    }
    await failures.recordFailure(address);
    return problemResponse(c, unauthorized('The API key is not valid: unknown, revoked, or not sent as Authorization: Bearer <key>.', 'invalid_token'));
  };
}
