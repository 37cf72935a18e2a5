import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { profileHandlers } from './profiles.handlers';
import * as routes from './profiles.routes';

export function profilesRouter(deps: ServiceDependencies) {
  const handlers = profileHandlers(deps);
  return createRouter().openapi(routes.putProfile, handlers.put).openapi(routes.getProfile, handlers.get).openapi(routes.putPushToken, handlers.putPushToken);
}
