import type { RouteHandler } from '@hono/zod-openapi';
import { createCategory, deleteCategory, editCategory, getCategory, listCategories } from '../../../services/categories';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './categories.routes';

export function categoryHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createCategory> = async (c) => c.json(await createCategory(deps, c.req.valid('json'), c.var.principal.keyId), 201);

  const list: RouteHandler<typeof routes.listCategories> = async (c) => c.json({ items: await listCategories(deps) }, 200);

  const get: RouteHandler<typeof routes.getCategory> = async (c) => c.json(await getCategory(deps, c.req.valid('param').key), 200);

  const patch: RouteHandler<typeof routes.patchCategory> = async (c) =>
    c.json(await editCategory(deps, c.req.valid('param').key, c.req.valid('json'), c.var.principal.keyId), 200);

  const remove: RouteHandler<typeof routes.deleteCategory> = async (c) => {
    await deleteCategory(deps, c.req.valid('param').key, c.var.principal.keyId);
    return c.body(null, 204);
  };

  return { create, list, get, patch, remove };
}
