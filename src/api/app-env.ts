import type { Principal } from '../domain/api-key';

/**
 * The typed variables the /v1 middlewares put on the Hono context, for every handler:
 * `c.var.principal` is the key that authenticated the request (OPEN_PRINCIPAL when the API
 * runs open). Declared on Hono's ContextVariableMap so that routers and handlers keep Hono's
 * default Env.
 */
declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}
