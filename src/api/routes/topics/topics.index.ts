import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { topicHandlers } from './topics.handlers';
import * as routes from './topics.routes';

export function topicsRouter(deps: ServiceDependencies) {
  const handlers = topicHandlers(deps);
  return createRouter()
    .openapi(routes.createTopic, handlers.create)
    .openapi(routes.listTopics, handlers.list)
    .openapi(routes.getTopic, handlers.get)
    .openapi(routes.deleteTopic, handlers.remove)
    .openapi(routes.putSubscribers, handlers.putSubscribers)
    .openapi(routes.listSubscribers, handlers.subscribers)
    .openapi(routes.deleteSubscriber, handlers.removeSubscriber);
}
