import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { CAMPAIGN_STATUSES, CAMPAIGN_TYPES } from '../../../domain/campaign';
import { MAX_STEPS } from '../../../domain/campaign-steps';
import { CappingSchema, QuietHoursSchema } from '../../schemas/capping-and-quiet-hours';
import { allowedLinkHostProblem, MAX_ALLOWED_LINK_HOSTS } from '../../../domain/link-hosts.mjs';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { ContextSchemaField, ReviewWarningsSchema } from '../../schemas/context-schema';
import { CampaignContentSchema } from '../../schemas/campaign-content';
import { CampaignStepsSchema } from '../../schemas/campaign-steps';
import { CategoryKeySchema } from '../preferences/preferences.schemas';
import { THROUGHPUTS } from '../../../domain/high-throughput';

const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-12-01T09:00:00Z' });

const ScheduleSchema = z.object({ startAt: isoDateTime.optional(), endAt: isoDateTime.optional() }).openapi('Schedule');

const TrackingSchema = z
  .object({
    opens: z.boolean().optional().openapi({ description: 'Adds a 1×1 open pixel under HERALD_PUBLIC_URL (/t/o/{token}).' }),
    clicks: z.boolean().optional().openapi({
      description:
        'Rewrites absolute http(s) <a href> links (SMS: URLs of the body) to HERALD_PUBLIC_URL/t/c/{token}, which redirects to the original, when their host is written literally in the content (`https://shop.example.com/{{ context.path }}`) or named in `allowedLinkHosts`; any other link (a host from a variable, userinfo) is sent as it is, untracked, so the redirect never leads where a trigger caller chooses.',
    }),
    allowedLinkHosts: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const problem = allowedLinkHostProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .max(MAX_ALLOWED_LINK_HOSTS)
      .optional()
      .openapi({
        description: `Hosts tracked links may also lead to, for links whose host comes from a variable: \`example.com\` (that host exactly) or \`*.example.com\` (its subdomains, not example.com itself); no scheme, port or path. Compared lowercase and punycode. At most ${MAX_ALLOWED_LINK_HOSTS}.`,
        example: ['example.com', '*.example.com'],
      }),
  })
  .strict()
  .openapi('Tracking', {
    description:
      'Engagement tracking: email (opens and clicks) or SMS (clicks only: the http(s) URLs of the body are rewritten, which lengthens it). Review needs HERALD_TRACKING_SECRET. Opens and clicks are counted per recipient in GET /v1/executions/{id}.',
  });

const AudienceSchema = z
  .object({
    namespace: safeText(1, 255).openapi({ example: 'email' }),
    createMissingProfiles: z.boolean().default(false),
  })
  // Not 'Audience': that name is the audience resource's (routes/audiences); one name, one schema in the document.
  .openapi('CampaignAudience');

const campaignFields = {
  name: safeText(1, 255).openapi({ example: 'Password reset' }),
  description: z.string().max(2000).optional(),
  tags: z.array(safeText(1, 64)).max(50).optional(),
  type: z.enum(CAMPAIGN_TYPES),
  channel: z.enum(['email', 'sms', 'push', 'inApp', 'chat', 'whatsapp']).openapi({
    description:
      'email, sms (content {body}), push (content {title, body, data?, deepLink?}), inApp (content {title, body, actionUrl?, data?}), chat (content {text, blocks?}) or whatsapp (content {body} or {template: {name, language, parameters?}}).',
  }),
  content: CampaignContentSchema.openapi({
    description:
      'Email: {subject, html, text?}; SMS: {body}; push: {title, body, data?, deepLink?}; inApp: {title, body, actionUrl?, data?}; chat: {text, blocks?}; whatsapp: {body} or {template: {name, language, parameters?}}; either flat or {default, translations}. Review checks it matches the channel.',
  }),
  audience: AudienceSchema,
  schedule: ScheduleSchema.optional(),
  contextSchema: ContextSchemaField,
  tracking: TrackingSchema.nullable().optional().openapi({
    description: 'Engagement tracking: `{opens, clicks, allowedLinkHosts?}` for email, `{clicks, allowedLinkHosts?}` for SMS. Absent or null: none.',
  }),
  capping: CappingSchema.nullable().optional().openapi({
    description:
      'Marketing only: the most messages one profile gets from this campaign in `periodHours` hours; recipients over it are excluded (`capped`). Global rules per channel: /v1/rules/capping. Absent or null: none.',
  }),
  quietHours: QuietHoursSchema.nullable().optional().openapi({
    description:
      'Marketing only: local hours in which nothing is sent; a message then is deferred to the end of the window or discarded (excluded `quiet-hours`). Absent or null: none.',
  }),
  steps: CampaignStepsSchema.nullable()
    .optional()
    .openapi({
      description: `What a trigger does, in order (at most ${MAX_STEPS}): send, delay, digest (first only), waitForEvent and condition steps, each with a unique id. Absent or null: one send of \`channel\` and \`content\`. Audience executions of a campaign with delay, digest or waitForEvent steps are refused (409) for now.`,
    }),
  category: CategoryKeySchema.nullable().optional().openapi({
    description:
      "The category (`/v1/categories`) its messages belong to: each person's preferences for it apply at every send, and a critical category's messages go whatever they say. Review checks it exists. Absent or null: none (only the people's channel preferences apply).",
  }),
  throughput: z.enum(THROUGHPUTS).optional().openapi({
    description:
      '`high`: triggers are committed to a queue and sent in batches by long-lived dispatcher workflows, thousands a second (docs/campaigns.md#high-throughput-campaigns). Review requires a transactional email, SMS or push campaign without `profile.*` variables, steps, capping or quiet hours; profiles are neither read nor created. Absent: `standard`, one workflow per trigger.',
  }),
  channelConfigurationId: safeText(1, 64).nullable().optional().openapi({
    description:
      "The channel configuration (`/v1/channel-configurations`) it sends with; review checks it exists, serves the channel and has its environment variables set. Absent or null: the channel's default provider.",
  }),
};

export const CampaignCreateSchema = z.object(campaignFields).strict().openapi('CampaignCreate');
export const CampaignPatchSchema = z
  .object(campaignFields)
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'send at least one field to change' })
  .openapi('CampaignPatch', { minProperties: 1 });

export const CampaignSchema = z
  .object({
    id: z.string(),
    ...campaignFields,
    tags: z.array(z.string()),
    schedule: ScheduleSchema,
    status: z.enum(CAMPAIGN_STATUSES),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    activatedAt: z.string().optional(),
    draftVersion: z.number().int().optional().openapi({
      description:
        "A draft version edited on the scheduled or live campaign, waiting for POST /activate; the fields shown are the live version's. See GET /v1/campaigns/{id}/versions.",
    }),
  })
  .openapi('Campaign');

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Campaigns'];
const security = allowKeys('full');

export const createCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  tags,
  security,
  summary: 'Create a campaign (as a draft)',
  request: { body: { required: true, content: { 'application/json': { schema: CampaignCreateSchema } } } },
  responses: { 201: json(CampaignSchema, 'The new draft'), 400: problemContent('Invalid campaign'), ...v1Responses, 413: problemContent('Body too large') },
});

export const getCampaign = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}',
  tags,
  security,
  summary: 'Get a campaign',
  request: { params: IdParams },
  responses: { 200: json(CampaignSchema, 'The campaign'), 400: problemContent('Invalid id'), ...v1Responses, 404: problemContent('Unknown campaign') },
});

export const listCampaigns = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  tags,
  security,
  summary: 'List campaigns, newest first',
  request: {
    query: z.object({
      status: z.enum(CAMPAIGN_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: safeText(0, 64).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: json(z.object({ items: z.array(CampaignSchema), nextCursor: z.string().optional() }).openapi('CampaignPage'), 'A page of campaigns'),
    400: problemContent('Invalid query'),
    ...v1Responses,
  },
});

export const patchCampaign = createRoute({
  method: 'patch',
  path: '/v1/campaigns/{id}',
  tags,
  security,
  summary: 'Edit a campaign (a draft: in place as a new version; a scheduled or live one: a new draft version)',
  description:
    'On a scheduled or live campaign the edit becomes a new draft version (`draftVersion` in the answer; a later PATCH edits on top of it as another version), and the live version keeps serving triggers until POST /activate switches to it. `channel`, `schedule` and `channelConfigurationId` cannot change on an active campaign (409 `campaign-field-fixed-while-active`).',
  request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: CampaignPatchSchema } } } },
  responses: {
    200: json(CampaignSchema, 'The edited draft'),
    400: problemContent('Invalid edit'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
    409: problemContent('The campaign is stopped or completed, or the edit changes a field fixed while it is active'),
    413: problemContent('Body too large'),
  },
});

export const activateCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/activate',
  tags,
  security,
  summary: 'Review and activate a draft',
  description:
    "Starts the campaign activation workflow `campaign/<id>`: scheduled until startAt, live until endAt, then completed. On a scheduled or live campaign with a draft version, reviews that version and replaces the live one through the workflow's `activateVersion` update; executions already accepted finish on the version they recorded.",
  request: { params: IdParams },
  responses: {
    200: json(
      CampaignSchema.extend({ warnings: ReviewWarningsSchema }).openapi('ActivatedCampaign'),
      "The activated campaign, scheduled or live, with the review's non-blocking warnings",
    ),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
    409: problemContent('Not a draft and no draft version waiting, or the version switch was refused'),
    422: problemContent('Review failed; every problem is listed in errors'),
  },
});

export const stopCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/stop',
  tags,
  security,
  summary: 'Stop a scheduled or live campaign',
  request: { params: IdParams },
  responses: {
    200: json(CampaignSchema, 'The stopped campaign'),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
    409: problemContent('Draft or completed campaigns cannot be stopped'),
  },
});
