import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { reportHandlers } from './reports.handlers';
import * as routes from './reports.routes';

export function reportsRouter(deps: ServiceDependencies) {
  const handlers = reportHandlers(deps);
  return createRouter().openapi(routes.getReport, handlers.global).openapi(routes.getLiveReport, handlers.live);
}
