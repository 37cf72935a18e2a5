import { API_KEY_SCOPES, type ApiKeyScope } from '../domain/api-key';

export const SECURITY_SCHEME = 'bearerAuth';

/**
 * Declares which API key scopes may call a route: every /v1 `createRoute` sets
 * `security: allowKeys(...)`. It shows in the OpenAPI document (OpenAPI 3.1 allows scope lists
 * for any scheme), and the authorization middleware reads it back from there, so a route that
 * declares nothing is refused to every key.
 */
export const allowKeys = (...scopes: [ApiKeyScope, ...ApiKeyScope[]]) => [{ [SECURITY_SCHEME]: scopes }];

/** The scopes an operation's `security` admits; none when it declares none. */
export function declaredScopes(security: readonly Record<string, readonly string[]>[] | undefined): ApiKeyScope[] {
  const declared = (security ?? []).flatMap((requirement) => requirement[SECURITY_SCHEME] ?? []);
  return API_KEY_SCOPES.filter((scope) => declared.includes(scope));
}
