import type { RouteHandler } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { CampaignReports } from '../../../services/campaign-reports';
import type * as routes from './reports.routes';

export function reportHandlers(deps: ServiceDependencies) {
  const reports = new CampaignReports(deps.db);

  const global: RouteHandler<typeof routes.getReport> = async (c) => {
    const { id } = c.req.valid('param');
    const { from, to } = c.req.valid('query');
    return c.json(await reports.global(id, { from, to }), 200);
  };

  const live: RouteHandler<typeof routes.getLiveReport> = async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await reports.live(id), 200);
  };

  return { global, live };
}
