import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { audienceExecutionHandlers } from './audience-executions.handlers';
import * as routes from './audience-executions.routes';

export function audienceExecutionsRouter(deps: ServiceDependencies) {
  const handlers = audienceExecutionHandlers(deps);
  return createRouter()
    .openapi(routes.triggerAudience, handlers.trigger)
    .openapi(routes.getSchedule, handlers.getSchedule)
    .openapi(routes.cancelSchedule, handlers.cancelSchedule);
}
