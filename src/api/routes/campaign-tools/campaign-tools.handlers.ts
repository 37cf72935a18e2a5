import type { RouteHandler } from '@hono/zod-openapi';
import { ulid } from '../../../ids/ulid-factory';
import { campaignCurl } from '../../../domain/campaign-curl';
import { createTemplateRenderer, type TemplateRenderer } from '../../../rendering/template-renderer';
import { previewCampaign } from '../../../services/campaign-preview';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { notFoundProblem } from '../../problem';
import type * as routes from './campaign-tools.routes';

export function campaignToolHandlers(deps: ServiceDependencies) {
  // The preview renders in the same sandboxed pool and limits as the worker; made on first use
  // (its idle render processes are unref'd and end after a minute, so an API that never previews has none).
  let renderer: TemplateRenderer | undefined;
  const previewRenderer = () => (renderer ??= createTemplateRenderer(deps.config.render));

  const curl: RouteHandler<typeof routes.getCampaignCurl> = async (c) => {
    const { id } = c.req.valid('param');
    const campaign = await deps.campaigns.get(id);
    if (!campaign) throw notFoundProblem(`Campaign ${id}`);
    // The address the public reaches this API at (HERALD_PUBLIC_URL; by default its own).
    const baseUrl = deps.config.publicUrl;
    return c.json(campaignCurl(campaign, baseUrl, `example-${ulid()}`), 200);
  };

  const preview: RouteHandler<typeof routes.previewCampaign> = async (c) =>
    c.json(await previewCampaign(deps, previewRenderer(), c.req.valid('param').id, c.req.valid('json')), 200);

  return { curl, preview };
}
