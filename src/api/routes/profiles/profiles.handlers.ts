import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { registerPushToken, upsertProfile } from '../../../services/profile-editing';
import { notFoundProblem } from '../../problem';
import type * as routes from './profiles.routes';

export function profileHandlers(deps: ServiceDependencies) {
  const put: RouteHandler<typeof routes.putProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const { attributes, consents, locale } = c.req.valid('json');
    const { profile, created } = await upsertProfile(
      deps,
      { namespace, userId, attributes, ...(consents && { consents }), ...(locale !== undefined && { locale }) },
      c.var.principal.keyId,
    );
    const answer = { ...profile, pushTokens: await deps.profiles.pushTokens(namespace, userId) };
    return created ? c.json(answer, 201) : c.json(answer, 200);
  };

  const get: RouteHandler<typeof routes.getProfile> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const profile = await deps.profiles.get(namespace, userId);
    if (!profile) throw notFoundProblem(`Profile ${namespace}/${userId}`);
    return c.json({ ...profile, pushTokens: await deps.profiles.pushTokens(namespace, userId) }, 200);
  };

  const putPushToken: RouteHandler<typeof routes.putPushToken> = async (c) => {
    const { namespace, userId } = c.req.valid('param');
    const target = c.req.valid('json');
    if (!(await registerPushToken(deps, { namespace, userId, target }, c.var.principal.keyId))) throw notFoundProblem(`Profile ${namespace}/${userId}`);
    const profile = await deps.profiles.get(namespace, userId);
    if (!profile) throw notFoundProblem(`Profile ${namespace}/${userId}`);
    return c.json({ ...profile, pushTokens: await deps.profiles.pushTokens(namespace, userId) }, 200);
  };

  return { put, get, putPushToken };
}
