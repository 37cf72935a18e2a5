import type { RouteHandler, z } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { listCampaignVersions } from '../../../services/campaign-versions';
import { createRouter } from '../../create-router';
import * as routes from './campaign-versions.routes';

/** A campaign's versions: GET /v1/campaigns/{id}/versions. */
export function campaignVersionsRouter(deps: ServiceDependencies) {
  const list: RouteHandler<typeof routes.listCampaignVersions> = async (c) => {
    // The schema's channel lists the channels campaigns can be created with today; stored versions hold only those.
    const items = (await listCampaignVersions(deps, c.req.valid('param').id)) as z.infer<typeof routes.CampaignVersionSchema>[];
    return c.json({ items }, 200);
  };
  return createRouter().openapi(routes.listCampaignVersions, list);
}
