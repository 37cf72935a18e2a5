import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { topicExecutionHandlers } from './topic-executions.handlers';
import * as routes from './topic-executions.routes';

export function topicExecutionsRouter(deps: ServiceDependencies) {
  const handlers = topicExecutionHandlers(deps);
  return createRouter().openapi(routes.triggerTopic, handlers.trigger);
}
