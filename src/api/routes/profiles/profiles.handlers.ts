import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { upsertProfile } from '../../../services/profile-editing';
import { notFoundProblem } from '../../problem';
import type * as routes from './profiles.routes';

export function profileHandlers(deps: ServiceDependencies) {
  const put: RouteHandler<typeof routes.putProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const { attributes, consents, locale } = c.req.valid('json');
    const { profile, created } = await upsertProfile(deps, { namespace, userId, attributes, ...(consents && { consents }), ...(locale !== undefined && { locale }) }, c.var.principal.keyId);
    return created ? c.json(profile, 201) : c.json(profile, 200);
  };

  const get: RouteHandler<typeof routes.getProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const profile = await deps.profiles.get(namespace, userId);
    if (!profile) throw notFoundProblem(`Profile ${namespace}/${userId}`);
    return c.json(profile, 200);
  };

  return { put, get };
}
