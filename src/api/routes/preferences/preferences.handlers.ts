import type { RouteHandler } from '@hono/zod-openapi';
import { getPreferences, PREFERENCE_ACTORS, putPreferences } from '../../../services/preferences';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import type {} from '../../subscriber-access'; // types c.var.subscriber
import type * as routes from './preferences.routes';
import { putBody } from './preferences.schemas';

export function preferenceHandlers(deps: ServiceDependencies) {
  const getOfProfile: RouteHandler<typeof routes.getProfilePreferences> = async (c) => c.json(await getPreferences(deps, c.req.valid('param')), 200);

  const putOfProfile: RouteHandler<typeof routes.putProfilePreferences> = async (c) =>
    c.json(await putPreferences(deps, c.req.valid('param'), putBody(c.req.valid('json')), c.var.principal.keyId), 200);

  const getMine: RouteHandler<typeof routes.getInboxPreferences> = async (c) => c.json(await getPreferences(deps, c.var.subscriber), 200);

  const putMine: RouteHandler<typeof routes.putInboxPreferences> = async (c) =>
    c.json(await putPreferences(deps, c.var.subscriber, putBody(c.req.valid('json')), PREFERENCE_ACTORS.subscriber), 200);

  return { getOfProfile, putOfProfile, getMine, putMine };
}
