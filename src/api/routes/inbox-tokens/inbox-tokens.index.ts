import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { inboxTokenHandlers } from './inbox-tokens.handlers';
import * as routes from './inbox-tokens.routes';

/** Subscriber tokens for the inbox routes, made by the customer's backend with an API key. */
export function inboxTokensRouter(deps: ServiceDependencies) {
  const handlers = inboxTokenHandlers(deps);
  return createRouter().openapi(routes.createSubscriberToken, handlers.create);
}
