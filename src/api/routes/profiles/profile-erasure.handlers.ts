import type { RouteHandler } from '@hono/zod-openapi';
import { eraseProfile } from '../../../services/profile-erasure';
import { exportProfile } from '../../../services/profile-export';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './profile-erasure.routes';

export function profileErasureHandlers(deps: ServiceDependencies) {
  const erase: RouteHandler<typeof routes.eraseProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    return c.json({ erased: await eraseProfile(deps, namespace, userId, c.var.principal.keyId) }, 202);
  };

  const exportAll: RouteHandler<typeof routes.exportProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const { cursor } = c.req.valid('query');
    return c.json(await exportProfile(deps, namespace, userId, cursor), 200);
  };

  return { erase, exportAll };
}
