import { createRoute, z } from '@hono/zod-openapi';
import { FEEDBACK_EVENT_TYPES, type FeedbackEventType } from '../../../repositories/feedback-events';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

const EVENTS_DESCRIPTION =
  'What the endpoint receives: sent, delivered, bounced, complained, failed, excluded, opened, clicked, unsubscribed. Each is posted as a Standard Webhooks message ' +
  '`{type: "message.<event>", timestamp, data: {id, event, requestId, executionId, campaignId, campaignVersion, userId, channel, position, attempt, failure?: {category, code, reason}, bounceType?, url?}}`; ' +
  'events that piled up come together as `{type: "message.batch", data: {attempt, events: [...]}}`. Delivery is at least once: deduplicate on `data.id`.';

const events = z
  .array(z.enum(FEEDBACK_EVENT_TYPES as [FeedbackEventType, ...FeedbackEventType[]]))
  .min(1)
  .max(FEEDBACK_EVENT_TYPES.length * 2)
  .openapi({ description: EVENTS_DESCRIPTION, example: ['delivered', 'bounced', 'complained'] });
const campaignIds = z
  .array(safeText(1, 64))
  .min(1)
  .max(1000)
  .nullable()
  .openapi({ description: 'Only events of these campaigns; absent or null: every campaign.' });
const url = safeText(1, 2048).openapi({
  description:
    'http:// or https://. Private, loopback, link-local and reserved addresses are refused, at creation and after DNS resolution at each delivery, unless HERALD_WEBHOOKS_ALLOW_PRIVATE=true.',
  example: 'https://hooks.example.com/herald',
});

export const WebhookCreateSchema = z.object({ url, events, campaignIds: campaignIds.optional() }).strict().openapi('WebhookCreate');

export const WebhookPatchSchema = z
  .object({
    url: url.optional(),
    events: events.optional(),
    campaignIds: campaignIds.optional(),
    enabled: z.boolean().optional().openapi({ description: 'true re-enables a disabled endpoint (what piled up meanwhile is delivered); false disables it.' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'send at least one field to change' })
  .openapi('WebhookPatch', { minProperties: 1 });

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    campaignIds: z.array(z.string()).nullable(),
    status: z.enum(['enabled', 'disabled']),
    disabledReason: z
      .string()
      .nullable()
      .openapi({ description: 'Why it was disabled: failures for 24 hours, HERALD_WEBHOOK_DISABLE_AFTER_FAILURES failures in a row, or over the API.' }),
    consecutiveFailures: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Webhook');

export const WebhookCreatedSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret (`whsec_…`, Standard Webhooks). Shown here only, never again: store it now.' }),
}).openapi('WebhookCreated');

const WebhookAttemptSchema = z
  .object({
    id: z.number().int(),
    messageId: z.string().openapi({ description: 'The `webhook-id` header of the request.' }),
    eventIds: z.array(z.number().int()),
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
    attemptedAt: z.string(),
    durationMs: z.number().int(),
  })
  .openapi('WebhookAttempt');

const WebhookTestResultSchema = z
  .object({ ok: z.boolean(), statusCode: z.number().int().nullable(), error: z.string().nullable(), durationMs: z.number().int() })
  .openapi('WebhookTestResult');

const IdParams = z.object({ id: safeText(1, 64).openapi({ param: { name: 'id', in: 'path' } }) });
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Webhooks'];
const security = allowKeys('full');

export const createWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  tags,
  security,
  summary: 'Create a feedback webhook endpoint; answers its signing secret once',
  request: { body: { required: true, content: { 'application/json': { schema: WebhookCreateSchema } } } },
  responses: {
    201: json(WebhookCreatedSchema, 'The new endpoint, with its secret'),
    400: problemContent('Invalid endpoint (a refused URL among them)'),
    ...v1Responses,
    409: problemContent('HERALD_PAYLOAD_KEYS is not set (secrets are stored encrypted with it), or too many endpoints'),
    413: problemContent('Body too large'),
  },
});

export const listWebhooks = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  tags,
  security,
  summary: 'List feedback webhook endpoints, newest first',
  responses: { 200: json(z.object({ items: z.array(WebhookSchema) }).openapi('WebhookList'), 'The endpoints'), ...v1Responses },
});

export const getWebhook = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  tags,
  security,
  summary: 'Get a feedback webhook endpoint (never its secret)',
  request: { params: IdParams },
  responses: { 200: json(WebhookSchema, 'The endpoint'), 400: problemContent('Invalid id'), ...v1Responses, 404: problemContent('Unknown endpoint') },
});

export const patchWebhook = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  tags,
  security,
  summary: 'Change a feedback webhook endpoint; `enabled: true` re-enables it',
  request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: WebhookPatchSchema } } } },
  responses: {
    200: json(WebhookSchema, 'The changed endpoint'),
    400: problemContent('Invalid change'),
    ...v1Responses,
    404: problemContent('Unknown endpoint'),
    413: problemContent('Body too large'),
  },
});

export const deleteWebhook = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  tags,
  security,
  summary: 'Delete a feedback webhook endpoint and stop its deliveries',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, 400: problemContent('Invalid id'), ...v1Responses, 404: problemContent('Unknown endpoint') },
});

export const testWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  tags,
  security,
  summary: 'Send a signed `message.test` event now and answer what the endpoint said',
  request: { params: IdParams },
  responses: {
    200: json(WebhookTestResultSchema, 'The attempt (also listed in /attempts)'),
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown endpoint'),
    409: problemContent('HERALD_PAYLOAD_KEYS is not set'),
  },
});

export const listWebhookAttempts = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/attempts',
  tags,
  security,
  summary: 'Recent delivery attempts of an endpoint, newest first, with status codes',
  request: { params: IdParams, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: {
    200: json(z.object({ items: z.array(WebhookAttemptSchema) }).openapi('WebhookAttemptList'), 'The attempts'),
    400: problemContent('Invalid id or query'),
    ...v1Responses,
    404: problemContent('Unknown endpoint'),
  },
});
