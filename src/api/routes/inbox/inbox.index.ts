import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { SUBSCRIBER_SCHEME, SUBSCRIBER_SCHEME_COMPONENT } from '../../subscriber-access';
import { inboxHandlers } from './inbox.handlers';
import * as routes from './inbox.routes';

/** A person's in-app inbox, with a subscriber token: the feed, its changes and the live stream (docs/inbox.md). */
export function inboxRouter(deps: ServiceDependencies) {
  const handlers = inboxHandlers(deps);
  const router = createRouter();
  router.openAPIRegistry.registerComponent('securitySchemes', SUBSCRIBER_SCHEME, SUBSCRIBER_SCHEME_COMPONENT);
  return router
    .openapi(routes.listInboxMessages, handlers.list)
    .openapi(routes.readAllInboxMessages, handlers.readAll)
    .openapi(routes.changeInboxMessage, handlers.change)
    .openapi(routes.inboxStream, handlers.stream);
}
