import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem } from '../../problem';
import { activateCampaign as activate, stopCampaign as stop } from '../../../services/campaign-lifecycle';
import { createCampaign, editCampaign } from '../../../services/campaign-editing';
import { campaignWithDraft } from '../../../services/campaign-versions';
import type * as routes from './campaigns.routes';

export function campaignHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createCampaign> = async (c) => c.json(await createCampaign(deps, c.req.valid('json'), c.var.principal.keyId), 201);

  const get: RouteHandler<typeof routes.getCampaign> = async (c) => {
    const { id } = c.req.valid('param');
    const campaign = await deps.campaigns.get(id);
    if (!campaign) throw notFoundProblem(`Campaign ${id}`);
    return c.json(await campaignWithDraft(deps, campaign), 200);
  };

  const list: RouteHandler<typeof routes.listCampaigns> = async (c) => c.json(await deps.campaigns.list(c.req.valid('query')), 200);

  const patch: RouteHandler<typeof routes.patchCampaign> = async (c) =>
    c.json(await editCampaign(deps, c.req.valid('param').id, c.req.valid('json'), c.var.principal.keyId), 200);

  const activateHandler: RouteHandler<typeof routes.activateCampaign> = async (c) =>
    c.json(await activate(deps, c.req.valid('param').id, c.var.principal.keyId), 200);
  const stopHandler: RouteHandler<typeof routes.stopCampaign> = async (c) => c.json(await stop(deps, c.req.valid('param').id, c.var.principal.keyId), 200);

  return { create, get, list, patch, activate: activateHandler, stop: stopHandler };
}
