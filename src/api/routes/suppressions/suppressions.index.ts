import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { suppressionHandlers } from './suppressions.handlers';
import * as routes from './suppressions.routes';

export function suppressionsRouter(deps: ServiceDependencies) {
  const handlers = suppressionHandlers(deps);
  const router = createRouter();
  // The import's lines are a string body in the document; the line schema is listed for reference.
  router.openAPIRegistry.register('SuppressionImportLine', routes.SuppressionImportLineSchema);
  return router
    .openapi(routes.listSuppressions, handlers.list)
    .openapi(routes.addSuppression, handlers.add)
    .openapi(routes.importSuppressions, handlers.importNdjson)
    .openapi(routes.deleteSuppression, handlers.remove);
}
