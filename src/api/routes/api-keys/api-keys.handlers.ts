import type { RouteHandler } from '@hono/zod-openapi';
import { createApiKey, listApiKeys, revokeApiKey } from '../../../services/api-keys';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type * as routes from './api-keys.routes';

export function apiKeyHandlers(deps: ServiceDependencies) {
  // The answer holds a secret: no cache may keep it.
  const create: RouteHandler<typeof routes.createApiKey> = async (c) =>
    c.json(await createApiKey(deps, c.req.valid('json'), c.var.principal.keyId), 201, { 'cache-control': 'no-store' });

  const list: RouteHandler<typeof routes.listApiKeys> = async (c) => c.json({ items: await listApiKeys(deps) }, 200);

  const revoke: RouteHandler<typeof routes.revokeApiKey> = async (c) => {
    await revokeApiKey(deps, c.req.valid('param').id, c.var.principal.keyId);
    return c.body(null, 204);
  };

  return { create, list, revoke };
}
