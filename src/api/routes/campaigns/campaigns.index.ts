import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { campaignHandlers } from './campaigns.handlers';
import * as routes from './campaigns.routes';

export function campaignsRouter(deps: ServiceDependencies) {
  const handlers = campaignHandlers(deps);
  return createRouter()
    .openapi(routes.createCampaign, handlers.create)
    .openapi(routes.listCampaigns, handlers.list)
    .openapi(routes.getCampaign, handlers.get)
    .openapi(routes.patchCampaign, handlers.patch)
    .openapi(routes.activateCampaign, handlers.activate)
    .openapi(routes.stopCampaign, handlers.stop);
}
