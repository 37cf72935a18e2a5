import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { CAMPAIGN_VERSION_STATUSES } from '../../../domain/campaign-version';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { CampaignSchema } from '../campaigns/campaigns.routes';

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });

export const CampaignVersionSchema = CampaignSchema.omit({
  id: true,
  status: true,
  version: true,
  createdAt: true,
  updatedAt: true,
  activatedAt: true,
  draftVersion: true,
})
  .extend({
    version: z.number().int(),
    status: z.enum(CAMPAIGN_VERSION_STATUSES).openapi({
      description:
        'draft: waiting for activation (or the current version of a campaign never activated); live: the version triggers render (the last one of a stopped or completed campaign stays live); superseded: replaced by a later version.',
    }),
    createdAt: z.string(),
    activatedAt: z.string().optional().openapi({ description: 'When it went live.' }),
  })
  .openapi('CampaignVersion');

export const listCampaignVersions = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/versions',
  tags: ['Campaigns'],
  security: allowKeys('full'),
  summary: "List a campaign's versions, newest first",
  description:
    'Every version with its fields. PATCH on a scheduled or live campaign adds a draft version; POST /activate makes it live through the activation workflow and supersedes the old one. Executions record the version they were accepted at (`campaignVersion`) and render it.',
  request: { params: IdParams },
  responses: {
    200: {
      description: 'The versions',
      content: { 'application/json': { schema: z.object({ items: z.array(CampaignVersionSchema) }).openapi('CampaignVersionList') } },
    },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
  },
});
