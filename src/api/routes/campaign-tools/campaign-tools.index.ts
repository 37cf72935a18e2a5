import type { ServiceDependencies } from '../../../services/service-dependencies';
import { createRouter } from '../../create-router';
import { campaignToolHandlers } from './campaign-tools.handlers';
import * as routes from './campaign-tools.routes';

/** Developer tools around a campaign: its ready cURL request and the dry-run preview. */
export function campaignToolsRouter(deps: ServiceDependencies) {
  const handlers = campaignToolHandlers(deps);
  return createRouter().openapi(routes.getCampaignCurl, handlers.curl).openapi(routes.previewCampaign, handlers.preview);
}
