import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { eventHandlers } from './events.handlers';
import * as routes from './events.routes';

export function eventsRouter(deps: ServiceDependencies) {
  const handlers = eventHandlers(deps);
  return createRouter().openapi(routes.receiveEvent, handlers.receive);
}
