import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { jsonObject, safeText } from '../../schemas/safe-text';
import { PushInfoSchema } from '../../schemas/push-info';
import { ChatChannelDataSchema } from '../../../channels/chat/chat-channel-data-schema';
import { idempotencyReplayResponseHeader } from '../../idempotency-replay';

const JsonObject = jsonObject();
const noSystemKey = (context: Record<string, unknown> | undefined) => context === undefined || !Object.hasOwn(context, 'system');
const SYSTEM_RESERVED = 'context.system is reserved; rename the key';

const RecipientSchema = z
  .object({
    type: z.literal('aep').optional().openapi({ description: 'Accepted for AJO compatibility.' }),
    userId: safeText(1, 255).openapi({ example: 'ada@example.com' }),
    namespace: safeText(1, 255).openapi({ example: 'email' }),
    context: JsonObject.optional().refine(noSystemKey, SYSTEM_RESERVED).openapi({ description: 'Overrides the shared context key by key for this recipient.' }),
    channelData: z
      .object({
        emailAddress: z.email().max(254).optional(),
        // Any international form (+44 7911 123456); SMS campaigns validate and normalise it to E.164, failing the recipient with invalid-phone-number otherwise.
        mobilePhoneNumber: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[+0-9 ().-]+$/, 'must be a phone number in international form, e.g. +14155552671')
          .optional()
          .openapi({ example: '+14155552671' }),
        // Push campaigns send to this device instead of the profile's stored tokens.
        pushInfo: PushInfoSchema.optional(),
        // Chat campaigns send to this destination instead of the profile's slackUserId.
        chat: ChatChannelDataSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('Recipient');

export const UnitaryTriggerSchema = z
  .object({
    requestId: safeText(1, 128).openapi({ description: 'Idempotency key: a repeat with the same body returns the same execution.', example: 'reset-4711' }),
    campaignId: safeText(1, 64),
    recipients: z
      .array(RecipientSchema)
      .min(1)
      .max(20)
      .superRefine((recipients, ctx) => {
        const seen = new Set<string>();
        recipients.forEach((r, i) => {
          if (seen.has(r.userId)) ctx.addIssue({ code: 'custom', path: [i, 'userId'], message: `duplicate userId ${r.userId}` });
          seen.add(r.userId);
        });
      }),
    context: JsonObject.optional()
      .refine(noSystemKey, SYSTEM_RESERVED)
      .openapi({ description: 'Shared personalisation data, at most 200 KB of JSON with all recipient contexts.' }),
    campaignVersion: z.number().int().min(1).max(2_147_483_647).optional().openapi({
      description:
        'Pins the call to this version of the campaign (its `version`): a version that is not the live one answers 409 `campaign-version-not-live`. Unpinned calls take the live version. Either way the execution records it as `campaignVersion` and renders it, even if another version goes live meanwhile.',
      example: 1,
    }),
    cancellationKey: safeText(1, 255).optional().openapi({
      description:
        'Campaigns with steps: POST /v1/executions/cancel with the campaignId and this key stops the run while it waits (a delay, a digest or an event), and nothing more is sent.',
      example: 'cart-8812',
    }),
  })
  .strict()
  .openapi('UnitaryTrigger');

const AcceptedSchema = z.object({ executionId: z.string(), requestId: z.string(), campaignId: z.string() }).openapi('ExecutionAccepted');

/** Which channel configuration sent a message (docs/failover.md); absent for the channel's default. */
const SentViaFields = {
  configurationId: z.string().optional().openapi({ description: "The channel configuration that finally sent the message: the campaign's, or a fallback" }),
  provider: z.string().optional().openapi({ description: 'Its provider (resend, smtp, ses, twilio, …)', example: 'smtp' }),
  failedOver: z.boolean().optional().openapi({ description: "True when a fallback sent it, not the campaign's own configuration" }),
};

const RecipientViewSchema = z.object({
  userId: z.string(),
  status: z.enum(['pending', 'sent', 'failed', 'excluded']),
  reason: z.string().optional().openapi({
    description:
      'no-consent, profile-not-found, no-email-address, no-phone-number, invalid-phone-number, render-error: …, provider-rejected: …, provider-timeout, provider-failed, not-started, workflow-terminated, …',
    example: 'no-consent',
  }),
  profileCreated: z.boolean(),
  messageId: z.string().optional(),
  ...SentViaFields,
  locale: z.string().optional().openapi({
    description:
      "The content variant the message was rendered from: default, or the translation's BCP 47 tag chosen by the profile's locale. Absent when nothing was rendered.",
    example: 'pt-BR',
  }),
  steps: z
    .array(
      z.object({
        id: z.string(),
        type: z.enum(['send', 'delay', 'digest', 'waitForEvent', 'condition']),
        status: z.enum(['waiting', 'done', 'stopped', 'cancelled', 'pending', 'sent', 'failed', 'excluded']).openapi({
          description:
            "waiting, done, stopped (a condition that did not hold, or a waitForEvent that stops) or cancelled; a send step shows its message's outcome instead: pending, sent, failed or excluded.",
        }),
        at: z.string().openapi({ description: 'When the step reached this status.' }),
        reason: z
          .string()
          .optional()
          .openapi({ description: "stopped-by-condition, event-received, event-timeout, cancelled, a send's failure or exclusion reason, …" }),
        until: z.string().optional().openapi({ description: 'A waiting step: when its wait ends at the latest.' }),
        messageId: z.string().optional(),
        ...SentViaFields,
      }),
    )
    .optional()
    .openapi({ description: 'Campaigns with steps: the steps this recipient reached, in order.' }),
  opens: z
    .number()
    .int()
    .optional()
    .openapi({ description: 'Tracked messages only (campaign tracking.opens or clicks): opens recorded by the pixel, repeats included.', example: 1 }),
  clicks: z.number().int().optional().openapi({ description: 'Tracked messages only: clicks recorded on its tracked links, repeats included.', example: 0 }),
});

export const ExecutionSchema = z
  .object({
    executionId: z.string(),
    requestId: z.string(),
    campaignId: z.string(),
    campaignVersion: z.number().int(),
    status: z.enum(['running', 'completed', 'failed', 'digested']).openapi({
      description: 'digested: the trigger was folded into the digest of digestExecutionId, which sends for it.',
    }),
    digestExecutionId: z.string().optional().openapi({
      description: 'Campaigns whose first step is a digest: the execution that carries the digest this trigger belongs to (its own id when it opened it).',
    }),
    digest: z
      .object({ count: z.number().int() })
      .optional()
      .openapi({ description: 'The execution that opened a digest: how many triggers it gathered so far.' }),
    reason: z.string().optional().openapi({
      description:
        "Why a failed execution failed: campaign-not-live, campaign-outside-schedule, not-started (its workflow never started, for a campaign with steps or an audience or topic run; a retry with the same requestId still runs it; one without steps is started by the orphan sweep instead), workflow-terminated / workflow-timed-out / workflow-failed / workflow-cancelled (its workflow ended without closing it), or internal-error: … (Herald's database stayed unavailable)",
      example: 'not-started',
    }),
    createdAt: z.string(),
    completedAt: z.string().optional(),
    counts: z
      .object({ sent: z.number().int(), failed: z.number().int(), excluded: z.number().int(), pending: z.number().int() })
      .openapi({ description: 'Recipients by outcome. Kept after retention removes the per-recipient details.' }),
    detailsPurgedAt: z
      .string()
      .optional()
      .openapi({ description: 'When retention (HERALD_RETENTION_DAYS) removed the per-recipient details; recipients is then empty and counts remain.' }),
    kind: z
      .enum(['unitary', 'audience'])
      .openapi({ description: 'unitary: a call for 1–20 recipients; audience: a call for a whole audience (POST /v1/executions/audience).' }),
    audience: z
      .object({
        audienceId: z.string(),
        targetedProfileCount: z
          .number()
          .int()
          .optional()
          .openapi({ description: 'Members frozen when the run started; absent before (a scheduled run that has not fired).' }),
        throttle: z.object({ messagesPerSecond: z.number().int() }).optional(),
        schedule: z.object({ scheduleId: z.string(), executeAt: z.string() }).optional(),
        excludedByReason: z.record(z.string(), z.number().int()).openapi({
          description: 'Excluded recipients by reason: no-consent, capped, quiet-hours, window-expired, campaign-stopped, campaign-ended, …',
          example: { 'no-consent': 12, capped: 3 },
        }),
        progress: z
          .object({ processed: z.number().int(), targeted: z.number().int(), percent: z.number() })
          .openapi({ description: 'Recipients with an outcome (sent, failed or excluded) of those targeted.' }),
      })
      .optional()
      .openapi({ description: 'Audience executions only. Their recipients are paged: GET /v1/executions/{executionId}/recipients.' }),
    recipients: z
      .array(RecipientViewSchema)
      .optional()
      .openapi({ description: 'Unitary executions: every recipient, in the order of the call. Absent for audience executions.' }),
  })
  .openapi('Execution');

const tags = ['Executions'];
// A trigger key may call both; the handlers narrow it to its campaigns and its own executions.
const security = allowKeys('full', 'trigger');

export const triggerUnitary = createRoute({
  method: 'post',
  path: '/v1/executions/unitary',
  tags,
  security,
  summary: 'Trigger a campaign for 1–20 recipients',
  request: { body: { required: true, content: { 'application/json': { schema: UnitaryTriggerSchema } } } },
  responses: {
    202: {
      description:
        "Accepted: the call is kept, and delivery runs in the workflow `execution/<campaignId>/<requestId>` (a high-throughput campaign: its partition's dispatcher). A campaign without steps is answered, its claim synced to disk, once its workflow has started or after HERALD_START_WAIT_MS (50 ms) while the start goes on; a campaign with steps once its workflow has started. A repeat with the same requestId and body answers the same execution, with `Idempotency-Replay: true`.",
      headers: idempotencyReplayResponseHeader,
      content: { 'application/json': { schema: AcceptedSchema } },
    },
    400: problemContent('Schema violation, duplicate userId, context.system, or wrong namespace'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
    409: problemContent('Campaign not live, a pinned campaignVersion that is not the live one, or requestId reused with a different body'),
    413: problemContent('Context over 200 KB or body too large'),
    422: problemContent('Now is outside the campaign schedule (type campaign-outside-schedule)'),
  },
});

export const getExecution = createRoute({
  method: 'get',
  path: '/v1/executions/{executionId}',
  tags,
  security,
  summary: 'Execution status, with every recipient outcome',
  request: {
    params: z.object({
      executionId: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'executionId', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The execution', content: { 'application/json': { schema: ExecutionSchema } } },
    400: problemContent('Invalid id'),
    ...v1Responses,
    404: problemContent('Unknown execution'),
  },
});

const ExecutionSummarySchema = ExecutionSchema.pick({
  executionId: true,
  requestId: true,
  campaignId: true,
  campaignVersion: true,
  kind: true,
  status: true,
  reason: true,
  createdAt: true,
  completedAt: true,
})
  .extend({
    counts: ExecutionSchema.shape.counts.optional().openapi({
      description:
        'Recipients by outcome: stored when the execution closed (nothing is pending then), counted as they stand for a running unitary execution. Absent for a running audience execution: GET /v1/executions/{executionId} shows its progress.',
    }),
    audienceId: z.string().optional().openapi({ description: 'Audience executions only.' }),
  })
  .openapi('ExecutionSummary');

export const listExecutions = createRoute({
  method: 'get',
  path: '/v1/executions',
  tags,
  security,
  summary: 'Executions, newest first, filtered and a page at a time',
  description:
    'Newest first by createdAt (then executionId). Filters combine (AND). Page with `limit` and the opaque `nextCursor`: pass it back as `cursor` with the same filters; it is absent on the last page. A trigger key lists only the executions it started, whatever it filters by. Recipients are not listed: GET /v1/executions/{executionId} has them.',
  request: {
    query: z.object({
      campaignId: safeText(1, 64).optional(),
      status: z.enum(['running', 'completed', 'failed', 'digested']).optional(),
      requestId: safeText(1, 128).optional().openapi({ description: 'The execution a trigger call with this requestId created (at most one).' }),
      kind: z.enum(['unitary', 'audience']).optional(),
      createdAfter: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'Created at or after this instant (ISO 8601 date-time).', example: '2026-12-01T00:00:00Z' }),
      createdBefore: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'Created before this instant (ISO 8601 date-time); later than createdAfter.', example: '2026-12-02T00:00:00Z' }),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      cursor: safeText(1, 300).optional().openapi({ description: 'nextCursor from the previous page' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of executions',
      content: {
        'application/json': {
          schema: z
            .object({
              items: z.array(ExecutionSummarySchema),
              nextCursor: z
                .string()
                .optional()
                .openapi({ description: 'Pass as `cursor` (with the same filters) for the next page; absent on the last page.' }),
            })
            .openapi('ExecutionPage'),
        },
      },
    },
    400: problemContent('Invalid filter, limit or cursor, or createdAfter not before createdBefore'),
    ...v1Responses,
  },
});

export const listRecipients = createRoute({
  method: 'get',
  path: '/v1/executions/{executionId}/recipients',
  tags,
  // Full access only: a trigger key reads its own executions, recipients included, through GET /v1/executions/{executionId}.
  security: allowKeys('full'),
  summary: "An execution's recipients, a page at a time",
  request: {
    params: z.object({
      executionId: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'executionId', in: 'path' } }),
    }),
    query: z.object({
      after: z.coerce
        .number()
        .int()
        .min(-1)
        .max(2_147_483_647)
        .default(-1)
        .openapi({ description: 'The nextAfter of the previous page; omit for the first page.' }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: {
      description: 'Recipients in position order (an audience run numbers its members in userId order when it starts)',
      content: {
        'application/json': {
          schema: z
            .object({
              items: z.array(RecipientViewSchema.extend({ position: z.number().int() })),
              nextAfter: z.number().int().optional().openapi({ description: 'Pass as `after` for the next page; absent on the last page.' }),
            })
            .openapi('ExecutionRecipientsPage'),
        },
      },
    },
    400: problemContent('Invalid id or query'),
    ...v1Responses,
    404: problemContent('Unknown execution'),
  },
});

export const cancelExecutions = createRoute({
  method: 'post',
  path: '/v1/executions/cancel',
  tags,
  security,
  summary: 'Cancel the waiting runs of a campaign by cancellationKey',
  description:
    'Stops every running execution of the campaign triggered with this cancellationKey: a run waiting (a delay, a digest, an event, quiet hours) stops at once and sends nothing more; a run between two steps stops at its next wait. A trigger key may cancel only for campaigns it may trigger.',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ campaignId: safeText(1, 64), cancellationKey: safeText(1, 255) })
            .strict()
            .openapi('ExecutionCancellation'),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The running executions it stopped',
      content: { 'application/json': { schema: z.object({ cancelled: z.number().int() }).openapi('ExecutionsCancelled') } },
    },
    400: problemContent('Schema violation'),
    ...v1Responses,
    404: problemContent('Unknown campaign'),
  },
});
