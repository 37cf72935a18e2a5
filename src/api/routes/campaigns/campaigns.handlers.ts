import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem, Problem } from '../../problem';
import { activateCampaign as activate, stopCampaign as stop } from '../../../services/campaign-lifecycle';
import type * as routes from './campaigns.routes';

export function campaignHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createCampaign> = async (c) => {
    const campaign = await deps.campaigns.create(c.req.valid('json'));
    return c.json(campaign, 201);
  };

  const get: RouteHandler<typeof routes.getCampaign> = async (c) => {
    const { id } = c.req.valid('param');
    const campaign = await deps.campaigns.get(id);
    if (!campaign) throw notFoundProblem(`Campaign ${id}`);
    return c.json(campaign, 200);
  };

  const list: RouteHandler<typeof routes.listCampaigns> = async (c) => c.json(await deps.campaigns.list(c.req.valid('query')), 200);

  const patch: RouteHandler<typeof routes.patchCampaign> = async (c) => {
    const { id } = c.req.valid('param');
    const existing = await deps.campaigns.get(id);
    if (!existing) throw notFoundProblem(`Campaign ${id}`);
    const edited = existing.status === 'draft' ? await deps.campaigns.editDraft(id, c.req.valid('json')) : undefined;
    if (!edited) {
      throw new Problem(409, 'campaign-not-draft', 'Only drafts can be edited', `Campaign ${id} is ${existing.status}; only a draft can be edited.`);
    }
    return c.json(edited, 200);
  };

  const activateHandler: RouteHandler<typeof routes.activateCampaign> = async (c) => c.json(await activate(deps, c.req.valid('param').id), 200);
  const stopHandler: RouteHandler<typeof routes.stopCampaign> = async (c) => c.json(await stop(deps, c.req.valid('param').id), 200);

  return { create, get, list, patch, activate: activateHandler, stop: stopHandler };
}
