import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { audienceHandlers } from './audiences.handlers';
import * as routes from './audiences.routes';

export function audiencesRouter(deps: ServiceDependencies) {
  const handlers = audienceHandlers(deps);
  return createRouter()
    .openapi(routes.createAudience, handlers.create)
    .openapi(routes.listAudiences, handlers.list)
    .openapi(routes.getAudience, handlers.get)
    .openapi(routes.deleteAudience, handlers.remove)
    .openapi(routes.addMembers, handlers.addMembers)
    .openapi(routes.removeMembers, handlers.removeMembers)
    .openapi(routes.removeMember, handlers.removeMember);
}
