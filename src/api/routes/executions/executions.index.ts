import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { executionHandlers } from './executions.handlers';
import * as routes from './executions.routes';

export function executionsRouter(deps: ServiceDependencies) {
  const handlers = executionHandlers(deps);
  return createRouter()
    .openapi(routes.triggerUnitary, handlers.trigger)
    .openapi(routes.cancelExecutions, handlers.cancel)
    .openapi(routes.getExecution, handlers.get)
    .openapi(routes.listExecutions, handlers.list)
    .openapi(routes.listRecipients, handlers.recipients);
}
