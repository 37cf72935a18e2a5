import type { RouteHandler } from '@hono/zod-openapi';
import { createChannelConfiguration, deleteChannelConfiguration, detailOf, updateChannelConfiguration } from '../../../services/channel-configurations';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem } from '../../problem';
import type * as routes from './channel-configurations.routes';

export function channelConfigurationHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createChannelConfiguration> = async (c) =>
    c.json(await detailOf(deps, await createChannelConfiguration(deps, c.req.valid('json'), c.var.principal.keyId)), 201);

  const list: RouteHandler<typeof routes.listChannelConfigurations> = async (c) => {
    const page = await deps.channelConfigurations.list(c.req.valid('query'));
    return c.json({ ...page, items: await Promise.all(page.items.map((item) => detailOf(deps, item))) }, 200);
  };

  const get: RouteHandler<typeof routes.getChannelConfiguration> = async (c) => {
    const { id } = c.req.valid('param');
    const configuration = await deps.channelConfigurations.get(id);
    if (!configuration) throw notFoundProblem(`Channel configuration ${id}`);
    return c.json(await detailOf(deps, configuration), 200);
  };

  const patch: RouteHandler<typeof routes.patchChannelConfiguration> = async (c) =>
    c.json(await detailOf(deps, await updateChannelConfiguration(deps, c.req.valid('param').id, c.req.valid('json'), c.var.principal.keyId)), 200);

  const remove: RouteHandler<typeof routes.deleteChannelConfiguration> = async (c) => {
    await deleteChannelConfiguration(deps, c.req.valid('param').id, c.var.principal.keyId);
    return c.body(null, 204);
  };

  return { create, list, get, patch, remove };
}
