import type { Subscriber } from '../domain/subscriber-token';

/** The OpenAPI security scheme of the routes a person calls with a subscriber token. */
export const SUBSCRIBER_SCHEME = 'subscriberToken';

/**
 * Declares a /v1 route as one a person calls with a subscriber token (`POST /v1/inbox/tokens`),
 * not with an API key: `security: allowSubscribers()`. The subscriber middleware
 * (middlewares/subscriber-auth.ts) reads it back from the OpenAPI document, as the authorization
 * middleware reads the key scopes, and puts the person on `c.var.subscriber`; API keys are not
 * accepted there, nor subscriber tokens anywhere else.
 */
export const allowSubscribers = () => [{ [SUBSCRIBER_SCHEME]: [] as string[] }];

/** Whether an operation's `security` admits subscriber tokens. */
export function admitsSubscribers(security: readonly Record<string, readonly string[]>[] | undefined): boolean {
  return (security ?? []).some((requirement) => SUBSCRIBER_SCHEME in requirement);
}

/** The document's description of the scheme (registered by the routes that use it). */
export const SUBSCRIBER_SCHEME_COMPONENT = {
  type: 'http' as const,
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description:
    'A subscriber token from POST /v1/inbox/tokens: short-lived, signed, naming one person (namespace and userId). It grants the inbox calls for that person and nothing else; a browser may hold it.',
};

declare module 'hono' {
  interface ContextVariableMap {
    /** The person a subscriber token names, on the routes declared with allowSubscribers(). */
    subscriber: Subscriber;
  }
}
