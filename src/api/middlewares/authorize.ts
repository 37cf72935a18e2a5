import type { Context, MiddlewareHandler } from 'hono';
import { forbidden } from '../../domain/errors';
import { declaredScopes } from '../access';
import type { DeclaredOperations } from '../declared-operations';
import { domainErrorProblem } from '../domain-error-problem';
import { problemResponse } from '../problem';

/**
 * Lets a /v1 request through only to an operation the OpenAPI document declares, and only when
 * that operation's `security` admits the principal's scope. Default deny: an operation that
 * declares no scopes is refused to every key, and a handler that is not in the document never
 * runs under /v1 (the request gets the same 404 or 405 as an unknown route).
 */
export function authorize(operations: () => DeclaredOperations, notFound: (c: Context) => Response): MiddlewareHandler {
  return async (c, next) => {
    // The router answers HEAD with the GET handler.
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const operation = operations().operation(method, c.req.path);
    if (!operation) return notFound(c);
    const scopes = declaredScopes(operation.security);
    const { scope } = c.get('principal');
    if (!scopes.includes(scope)) {
      const detail =
        scopes.length === 0
          ? 'This route declares no API key scopes, so no key may call it.'
          : `This call needs a key with scope ${scopes.join(' or ')}; this key has scope ${scope}.`;
      return problemResponse(c, domainErrorProblem(forbidden(detail)));
    }
    await next();
  };
}
