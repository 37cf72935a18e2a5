import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { jsonObject, safeText } from '../../schemas/safe-text';
import { MAX_THROTTLE_PER_SECOND, MIN_THROTTLE_PER_SECOND } from '../../../domain/audience-execution';
import { idempotencyReplayResponseHeader } from '../../idempotency-replay';

const tags = ['Audience executions'];
// Whole-audience runs are a marketer's action, not a backend's trigger: full-access keys only.
const security = allowKeys('full');

export const AudienceTriggerSchema = z
  .object({
    requestId: safeText(1, 128).optional().openapi({
      description: 'Idempotency key: a repeat with the same body answers the same execution or schedule. Without it every call is a new run.',
      example: 'black-friday-2026',
    }),
    campaignId: safeText(1, 64),
    audience: z.object({ id: safeText(1, 64) }).strict(),
    context: jsonObject()
      .optional()
      .refine((context) => context === undefined || !Object.hasOwn(context, 'system'), 'context.system is reserved; rename the key')
      .openapi({ description: 'Shared personalisation data for every member, at most 200 KB of JSON; checked against the campaign contextSchema.' }),
    throttle: z
      .object({ messagesPerSecond: z.number().int().min(MIN_THROTTLE_PER_SECOND).max(MAX_THROTTLE_PER_SECOND) })
      .strict()
      .optional()
      .openapi({
        description: `At most this many messages per second (${MIN_THROTTLE_PER_SECOND}–${MAX_THROTTLE_PER_SECOND}); unthrottled runs go as fast as the worker and provider allow.`,
      }),
    schedule: z
      .object({ executeAt: z.iso.datetime({ offset: true }).openapi({ example: '2026-12-24T08:00:00Z' }) })
      .strict()
      .optional()
      .openapi({ description: 'Run later: the audience is frozen when it fires, not now. At most 366 days ahead.' }),
  })
  .strict()
  .openapi('AudienceTrigger');

const StartedSchema = z.object({ executionId: z.string(), requestId: z.string(), campaignId: z.string() }).openapi('AudienceExecutionAccepted');

export const AudienceScheduleSchema = z
  .object({
    scheduleId: z.string(),
    executionId: z.string().openapi({ description: 'The execution the schedule runs; GET /v1/executions/{executionId} shows it.' }),
    campaignId: z.string(),
    audienceId: z.string(),
    executeAt: z.string(),
    status: z.enum(['scheduled', 'started', 'cancelled']),
    createdAt: z.string(),
  })
  .openapi('AudienceSchedule');

const ScheduledSchema = z
  .object({ scheduleId: z.string(), executeAt: z.string(), status: z.enum(['scheduled', 'started', 'cancelled']) })
  .openapi('AudienceExecutionScheduled');

const ScheduleParams = z.object({
  scheduleId: z
    .string()
    .min(1)
    .max(80)
    .openapi({ param: { name: 'scheduleId', in: 'path' } }),
});

export const triggerAudience = createRoute({
  method: 'post',
  path: '/v1/executions/audience',
  tags,
  security,
  summary: 'Run a marketing campaign for a whole audience, now or at a given time',
  description:
    "The audience is frozen when the run starts: one pending recipient per member, in userId order. The run sends in batches (email through the provider's batch endpoint, 100 per call), honours the throttle, capping and quiet hours, and lasts at most HERALD_AUDIENCE_MAX_RUNTIME (12 h by default); members not reached by then are excluded as window-expired. Stopping the campaign stops the run at the next batch (campaign-stopped).",
  request: { body: { required: true, content: { 'application/json': { schema: AudienceTriggerSchema } } } },
  responses: {
    202: {
      description:
        'Accepted: `{executionId}` for a run that starts now, `{scheduleId, executeAt, status}` for a scheduled one. A repeat with the same requestId and body answers the same, with `Idempotency-Replay: true`.',
      headers: idempotencyReplayResponseHeader,
      content: { 'application/json': { schema: z.union([StartedSchema, ScheduledSchema]) } },
    },
    400: problemContent('Schema violation or context.system'),
    ...v1Responses,
    404: problemContent('Unknown campaign or audience'),
    409: problemContent(
      'Campaign not live, requestId reused with a different body, or a campaign with steps (campaign-has-waiting-steps, campaign-has-steps): audience executions do not run steps yet',
    ),
    413: problemContent('Context over 200 KB'),
    422: problemContent('Not a marketing campaign, audience of another namespace, outside the campaign schedule, or executeAt in the past'),
  },
});

export const getSchedule = createRoute({
  method: 'get',
  path: '/v1/executions/schedules/{scheduleId}',
  tags,
  security,
  summary: 'A scheduled audience execution',
  request: { params: ScheduleParams },
  responses: {
    200: { description: 'The schedule', content: { 'application/json': { schema: AudienceScheduleSchema } } },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown schedule'),
  },
});

export const cancelSchedule = createRoute({
  method: 'delete',
  path: '/v1/executions/schedules/{scheduleId}',
  tags,
  security,
  summary: 'Cancel a scheduled audience execution before it fires',
  request: { params: ScheduleParams },
  responses: {
    200: { description: 'Cancelled (cancelling again answers the same)', content: { 'application/json': { schema: AudienceScheduleSchema } } },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown schedule'),
    409: problemContent('The run has started; stop the campaign instead'),
  },
});
