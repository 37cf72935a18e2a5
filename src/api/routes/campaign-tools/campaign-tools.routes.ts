import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { jsonObject, safeText } from '../../schemas/safe-text';
import { PushInfoSchema } from '../../schemas/push-info';
import { ChatChannelDataSchema } from '../../../channels/chat/chat-channel-data-schema';

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });
const tags = ['Campaigns'];
const security = allowKeys('full');
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

const VariablesSchema = z
  .object({
    profile: z.array(z.string()).openapi({ example: ['profile.firstName'] }),
    context: z.array(z.string()).openapi({ example: ['context.code'] }),
  })
  .openapi('TemplateVariables', { description: "Every variable the content reads, as dotted names, found in the templates' syntax trees." });

export const CampaignCurlSchema = z
  .object({
    curl: z.string().openapi({
      description:
        'A runnable cURL request for POST /v1/executions/unitary. The key is the shell variable $HERALD_API_KEY, never a real key; requestId is freshly generated (use your own idempotency key).',
    }),
    variables: VariablesSchema,
  })
  .openapi('CampaignCurl');

export const getCampaignCurl = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/curl',
  tags,
  security,
  summary: 'A ready cURL request that triggers the campaign, and the variables its content uses',
  description:
    "One recipient in the campaign's namespace and a `context` with a value for every `context.*` variable of the content (and every property the contextSchema requires), taken from the schema's examples, const, default, enum or type when it has them.",
  request: { params: IdParams },
  responses: { 200: json(CampaignCurlSchema, 'The request'), 400: problemContent('Invalid id'), ...v1Responses, 404: problemContent('Unknown campaign') },
});

export const PreviewRequestSchema = z
  .object({
    recipient: z
      .object({
        userId: safeText(1, 255).openapi({ example: 'ada@example.com' }),
        namespace: safeText(1, 255).openapi({ example: 'email' }),
        attributes: jsonObject()
          .optional()
          .openapi({ description: "Laid over the stored profile's attributes, or standing in for a profile that does not exist. Never stored." }),
        locale: safeText(1, 64).optional().openapi({ description: "Preview as if the profile's locale were this BCP 47 tag.", example: 'fr' }),
        channelData: z
          .object({
            emailAddress: z.email().max(254).optional(),
            mobilePhoneNumber: z.string().max(64).optional(),
            pushInfo: PushInfoSchema.optional(),
            chat: ChatChannelDataSchema.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    context: jsonObject().optional(),
    stepId: safeText(1, 64)
      .optional()
      .openapi({ description: "Campaigns with steps: preview this send step's message (its channel and content) instead of the campaign's." }),
    digest: z
      .object({
        count: z.number().int().min(0).max(1_000_000),
        events: z.array(jsonObject()).max(100),
      })
      .strict()
      .optional()
      .openapi({ description: 'Sample data for the templates of a send step after a digest step (`digest.count`, `digest.events`).' }),
  })
  .strict()
  .openapi('PreviewRequest');

const RenderedEmailSchema = z.object({ subject: z.string(), html: z.string(), text: z.string().optional() }).openapi('RenderedEmail');
const RenderedSmsSchema = z
  .object({
    body: z.string(),
    sms: z
      .object({
        encoding: z.enum(['GSM-7', 'UCS-2']),
        segments: z
          .number()
          .int()
          .openapi({ description: 'How many SMS segments the body is sent as (153 GSM-7 or 67 UCS-2 characters each once it is split; 160 or 70 alone).' }),
        characters: z.number().int(),
      })
      .openapi('SmsSegments'),
  })
  .openapi('RenderedSms');
const RenderedSchema = z.union([RenderedEmailSchema, RenderedSmsSchema]);

export const CampaignPreviewSchema = z
  .object({
    campaign: z.object({ id: z.string(), version: z.number().int(), status: z.string() }),
    decision: z.object({ status: z.enum(['would-send', 'excluded', 'failed']), reason: z.string().optional() }).openapi({
      description: 'What a trigger would decide for this recipient now: its first blocking outcome (the reasons of GET /v1/executions/{id}), or would-send.',
    }),
    exclusions: z.array(z.string()).openapi({
      description: 'Every reason that would stop this recipient, not only the first: profile-not-found, no-consent, no-email-address, render-error: …',
    }),
    profile: z.object({ exists: z.boolean(), wouldBeCreated: z.boolean(), locale: z.string().nullable() }),
    consent: z.object({ required: z.boolean(), value: z.enum(['in', 'out']).nullable(), decision: z.enum(['allowed', 'excluded']) }),
    address: z.string().nullable(),
    locale: z.string().openapi({ description: "The content variant rendered: default or a translation's tag." }),
    rendered: RenderedSchema.nullable().openapi({
      description: 'The message through the same sandboxed renderer and limits as a real send; rendered even when the recipient would be excluded.',
    }),
    renderError: z.string().optional(),
    contextViolations: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .openapi({ description: 'Violations of the contextSchema: a trigger with this context would answer 400.' }),
    tracking: z
      .object({
        opens: z.boolean(),
        clicks: z.boolean(),
        token: z.literal('preview'),
        links: z.array(z.string()).openapi({ description: 'The original URLs rewritten (tracked), in order.' }),
        untrackedLinks: z
          .array(
            z
              .object({
                url: z.string(),
                reason: z.enum(['host-not-allowed', 'credentials-in-url', 'invalid-url', 'unsubscribe-link', 'opted-out', 'too-long', 'too-many-links']),
              })
              .openapi('UntrackedLink'),
          )
          .openapi({
            description:
              'The http(s) links sent as they are, in order (at most 100), with why: `host-not-allowed` (its host is neither written literally in the content nor in `tracking.allowedLinkHosts`, e.g. a URL from the context), `credentials-in-url` (userinfo such as `https://shop.example.com@other.example/`), `invalid-url`, `unsubscribe-link`, `opted-out` (data-herald-untracked), `too-long`, `too-many-links`.',
          }),
      })
      .nullable()
      .openapi({
        description:
          "The engagement tracking applied to `rendered`, as a send would apply it (an SMS's segment count includes its longer tracked links) but with the placeholder token `preview` (`{HERALD_PUBLIC_URL}/t/c/preview`), never a signed one. Null when untracked.",
      }),
  })
  .openapi('CampaignPreview');

export const previewCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/preview',
  tags,
  security,
  summary: 'Dry run: render the campaign for one recipient and report every decision, sending nothing',
  description:
    "Runs the trigger path's preparation (profile, consent, address, language variant, sandboxed render) without writing anything: no profile is created, no execution or delivery exists, no provider is called. Works on drafts too.",
  request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: PreviewRequestSchema } } } },
  responses: {
    200: json(CampaignPreviewSchema, 'The preview'),
    400: problemContent("Invalid body, or a namespace other than the campaign's"),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
    413: problemContent('Context over 200 KB or body too large'),
  },
});
