import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { SUBSCRIBER_SCHEME, SUBSCRIBER_SCHEME_COMPONENT } from '../../subscriber-access';
import { preferenceHandlers } from './preferences.handlers';
import * as routes from './preferences.routes';

/** A person's preferences: over the API (full access) and by the person with a subscriber token. */
export function preferencesRouter(deps: ServiceDependencies) {
  const handlers = preferenceHandlers(deps);
  const router = createRouter();
  router.openAPIRegistry.registerComponent('securitySchemes', SUBSCRIBER_SCHEME, SUBSCRIBER_SCHEME_COMPONENT);
  return router
    .openapi(routes.getProfilePreferences, handlers.getOfProfile)
    .openapi(routes.putProfilePreferences, handlers.putOfProfile)
    .openapi(routes.getInboxPreferences, handlers.getMine)
    .openapi(routes.putInboxPreferences, handlers.putMine);
}
