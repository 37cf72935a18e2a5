import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { subscriberTokensOf } from '../../services/subscriber-tokens';
import type { ServiceDependencies } from '../../services/service-dependencies';
import type { DeclaredOperations } from '../declared-operations';
import { Problem, problemResponse } from '../problem';
import { admitsSubscribers } from '../subscriber-access';
import { BEARER, refuseWrongCredential, unauthorized as bearerUnauthorized } from './bearer-refusal';
import type { ApiLimiters } from './rate-limit';

/** Calls per second one person makes with subscriber tokens (all their tokens, browsers and tabs together), bursts up to one second's worth. */
export const SUBSCRIBER_CALLS_PER_SECOND = 10;

const unauthorized = (detail: string) => bearerUnauthorized('herald-inbox', detail);

export interface SubscriberAccess {
  /**
   * First on /v1, before the API key middlewares: on a route declared with allowSubscribers(),
   * answers CORS (any origin: the token is a header, never a cookie), checks the subscriber token
   * (401 when missing, forged, altered or expired; 429 after too many failures from the address,
   * as for API keys), limits the person's calls (SUBSCRIBER_CALLS_PER_SECOND, 429) and puts them
   * on `c.var.subscriber`. Every other route passes through untouched.
   */
  authenticate: MiddlewareHandler;
  /** An API key middleware that leaves the subscriber routes alone (they take no API key). */
  unlessSubscriberCall(middleware: MiddlewareHandler): MiddlewareHandler;
}

/**
 * The bearer check of the routes a person calls with a subscriber token (the inbox routes), read
 * from the OpenAPI document like the key scopes: a route opts in with `security: allowSubscribers()`.
 * The limits count where the API key limits do (in process, or shared in PostgreSQL), under a
 * keyed hash of the person, never their userId.
 */
export function subscriberAccess(deps: Pick<ServiceDependencies, 'config'>, operations: () => DeclaredOperations, limiters: ApiLimiters): SubscriberAccess {
  // Without HERALD_TRACKING_SECRET no token was ever issued: every one is refused.
  const tokens = subscriberTokensOf(deps.config);
  const isSubscriberCall = (c: Context, method = c.req.method) =>
    admitsSubscribers(operations().operation(method === 'HEAD' ? 'GET' : method, c.req.path)?.security);
  const allowBrowsers = cors({
    origin: '*',
    allowMethods: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: ['authorization', 'content-type', 'last-event-id'],
    exposeHeaders: ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'www-authenticate'],
    maxAge: 600,
  });

  const refuse = (c: Context, detail: string): Promise<Response> =>
    refuseWrongCredential(c, limiters.authFailures, { realm: 'herald-inbox', wrong: 'tokens', detail });

  const check: MiddlewareHandler = async (c, next) => {
    const header = c.req.header('authorization')?.trim();
    if (!header) return problemResponse(c, unauthorized('Send Authorization: Bearer <subscriber token> with a token from POST /v1/inbox/tokens.'));
    const token = BEARER.exec(header)?.[1];
    const subscriber = token === undefined || !tokens ? undefined : await tokens.verifyInboxToken(token, Date.now());
    if (!subscriber || !tokens)
      return refuse(c, 'The subscriber token is not valid: forged, altered or expired. Ask your backend for a new one (POST /v1/inbox/tokens).');
    const { allowed, headers, retryAfterSeconds } = await limiters.calls.take(`subscriber:${tokens.personKey(subscriber)}`, SUBSCRIBER_CALLS_PER_SECOND);
    if (!allowed) {
      return problemResponse(
        c,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          `One person may make ${SUBSCRIBER_CALLS_PER_SECOND} calls per second; retry after ${retryAfterSeconds} s.`,
          undefined,
          { ...headers, 'retry-after': String(retryAfterSeconds) },
        ),
      );
    }
    c.set('subscriber', subscriber);
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };

  return {
    authenticate: async (c, next) => {
      // A browser's preflight names the method it is about to use.
      if (c.req.method === 'OPTIONS') {
        const requested = c.req.header('access-control-request-method');
        return requested && isSubscriberCall(c, requested.toUpperCase()) ? allowBrowsers(c, next) : next();
      }
      if (!isSubscriberCall(c)) return next();
      // CORS headers go on whatever answers: the route's, or the check's refusal.
      return allowBrowsers(c, async () => {
        const refused = await check(c, next);
        if (refused) c.res = refused;
      });
    },
    unlessSubscriberCall: (middleware) => (c, next) => (isSubscriberCall(c) ? next() : middleware(c, next)),
  };
}
