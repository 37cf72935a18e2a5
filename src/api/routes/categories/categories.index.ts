import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { categoryHandlers } from './categories.handlers';
import * as routes from './categories.routes';

export function categoriesRouter(deps: ServiceDependencies) {
  const handlers = categoryHandlers(deps);
  return createRouter()
    .openapi(routes.createCategory, handlers.create)
    .openapi(routes.listCategories, handlers.list)
    .openapi(routes.getCategory, handlers.get)
    .openapi(routes.patchCategory, handlers.patch)
    .openapi(routes.deleteCategory, handlers.remove);
}
