import type { MiddlewareHandler } from 'hono';
import { OPEN_PRINCIPAL } from '../../domain/api-key';
import type {} from '../app-env'; // types c.var.principal
import { apiKeyAuthenticator } from '../../services/api-keys';
import type { ServiceDependencies } from '../../services/service-dependencies';
import { problemResponse } from '../problem';
import { BEARER, refuseWrongCredential, unauthorized as bearerUnauthorized } from './bearer-refusal';
import type { FailedAuthLimiter } from './rate-limit';

const unauthorized = (detail: string) => bearerUnauthorized('herald', detail);

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
    return refuseWrongCredential(c, failures, {
      realm: 'herald',
      wrong: 'keys',
      note: ' A valid key is not limited.',
      detail: 'The API key is not valid: unknown, revoked, or not sent as Authorization: Bearer <key>.',
    });
  };
}
