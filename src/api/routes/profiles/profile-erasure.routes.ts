import { createRoute, z } from '@hono/zod-openapi';
import { CHANNELS } from '../../../domain/campaign';
import { PUSH_PLATFORMS } from '../../../domain/push';
import { allowKeys } from '../../access';
import { problemContent, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';
import { ConsentsSchema } from '../../schemas/profile-upsert';
import { InboxMessageSchema } from '../inbox/inbox.schemas';

const ProfileKeyParams = z.object({
  namespace: safeText(1, 255).openapi({ param: { name: 'namespace', in: 'path' }, example: 'email' }),
  userId: safeText(1, 255).openapi({ param: { name: 'userId', in: 'path' }, example: 'ada@example.com' }),
});
const count = (description: string) => z.number().int().openapi({ description });

export const ErasureCountsSchema = z
  .object({
    profiles: count('The profile (0 when only other rows were held about the key).'),
    pushTokens: count('Push tokens deleted.'),
    preferences: count("The person's preferences deleted (channels and categories; 0 or 1)."),
    audienceMemberships: count('Static audience memberships deleted.'),
    topicSubscriptions: count('Topic subscriptions deleted.'),
    inboxMessages: count("In-app messages deleted from the person's inbox."),
    deliveries: count(
      'Deliveries kept for the counts with the person taken out: userId becomes `erased:<position>`; address, provider message id, context and channelData are cleared.',
    ),
    renderedMessages: count('Rendered messages deleted.'),
    outboxMessages: count('Outbox copies deleted.'),
    trackedLinks: count("Tracked links of the person's messages deleted."),
    trackingEvents: count('Opens, clicks and provider events deleted.'),
    webhookEvents: count('Feedback webhook events about the deliveries deleted (those not yet posted are not posted).'),
    executions: count(
      "Executions whose trigger context (the person's alone) was cleared, whose requestId named the person (renamed `erased:<executionId>`), or whose cancellationKey was cleared (the person's alone, or naming them).",
    ),
    eventWaits: count('Waits for an event (waitForEvent steps) deleted: those runs end at their timeout.'),
    events: count('Events received for the person with an eventId deleted.'),
    suppressionsHashed: count("Suppressions of the person's addresses, now kept as keyed hashes: sends to them are still refused."),
    auditEntries: count('Audit entries that named the person, now naming the internal id or the hash.'),
  })
  .openapi('ErasureCounts');

export const ErasureSchema = z.object({ erased: ErasureCountsSchema }).openapi('ProfileErasure');

const EventSchema = z.object({
  type: z.string(),
  occurredAt: z.string(),
  linkIndex: z.number().int().optional(),
  url: z.string().optional(),
  userAgent: z.string().optional(),
  detail: z.string().optional(),
});

const ExportedDeliverySchema = z
  .object({
    executionId: z.string(),
    requestId: z.string(),
    campaignId: z.string(),
    campaignName: z.string().optional(),
    position: z.number().int(),
    channel: z.enum(CHANNELS),
    status: z.string(),
    reason: z.string().optional(),
    address: z.string().optional(),
    messageId: z.string().optional(),
    locale: z.string().optional(),
    feedback: z.string().optional(),
    bounceType: z.string().optional(),
    feedbackAt: z.string().optional(),
    triggeredAt: z.string(),
    updatedAt: z.string(),
    context: z.unknown().optional(),
    channelData: z.unknown().optional(),
    rendered: z
      .object({ subject: z.string().optional(), html: z.string().optional(), text: z.string().optional() })
      .optional()
      .openapi({ description: 'What was sent, while retention (HERALD_RETENTION_DAYS) keeps it.' }),
    events: z.array(EventSchema),
  })
  .openapi('ExportedDelivery');

export const ProfileExportSchema = z
  .object({
    exportedAt: z.string(),
    namespace: z.string(),
    userId: z.string(),
    profile: z
      .object({
        id: z.string().optional().openapi({ description: 'The internal id the audit log names the profile by.' }),
        attributes: z.record(z.string(), z.unknown()),
        consents: ConsentsSchema,
        locale: z.string().nullable(),
        autoCreated: z.boolean(),
        createdAt: z.string(),
        updatedAt: z.string(),
      })
      .nullable()
      .openapi({ description: 'Null when Herald holds deliveries or other rows about the key but no profile.' }),
    pushTokens: z
      .array(z.object({ appID: z.string(), platform: z.enum(PUSH_PLATFORMS), token: z.string(), createdAt: z.string(), updatedAt: z.string() }))
      .openapi({ description: 'In full (Art. 20): treat the export as a secret.' }),
    preferences: z
      .object({ channels: z.record(z.string(), z.boolean()), categories: z.record(z.string(), z.record(z.string(), z.boolean())), updatedAt: z.string() })
      .nullable()
      .openapi({ description: 'What the person turned on or off, per channel and per category (docs/preferences.md); null when nothing.' }),
    audienceMemberships: z.array(z.object({ audienceId: z.string(), audienceName: z.string(), addedAt: z.string() })),
    topicSubscriptions: z.array(z.object({ topic: z.string(), topicName: z.string(), subscribedAt: z.string() })),
    inboxMessages: z.array(InboxMessageSchema).openapi({ description: "The person's in-app messages (docs/inbox.md), newest first." }),
    history: z.array(z.object({ occurredAt: z.string(), action: z.string(), actor: z.string(), after: z.record(z.string(), z.unknown()).optional() })).openapi({
      description:
        'The audit entries about the profile, oldest first: who changed it, and consent changes with how they came (one-click unsubscribe, SMS keyword).',
    }),
    historyTruncated: z.boolean().openapi({ description: 'More than 1000 audit entries: the oldest 1000 are listed.' }),
    suppressions: z.array(z.object({ channel: z.enum(CHANNELS), address: z.string(), reason: z.string(), createdAt: z.string() })),
    inboundEvents: z.array(z.object({ name: z.string(), receivedAt: z.string(), matched: z.number().int() })).openapi({
      description:
        'Events received for the person with an eventId (POST /v1/events), newest first, at most 1000; `matched`: the waiting recipients each reached.',
    }),
    inboundEventsTruncated: z.boolean().openapi({ description: 'More than 1000 events: the newest 1000 are listed.' }),
    eventWaits: z
      .array(z.object({ event: z.string(), campaignId: z.string(), stepId: z.string(), createdAt: z.string() }))
      .openapi({ description: "Runs waiting now in a waitForEvent step for an event of the person's, oldest first." }),
    deliveries: z.array(ExportedDeliverySchema).openapi({ description: 'Newest first, at most 1000 per page.' }),
    truncated: z.boolean().openapi({ description: 'More deliveries follow: ask again with `cursor` set to `nextCursor`.' }),
    nextCursor: z.string().optional(),
  })
  .openapi('ProfileExport');

const tags = ['Profiles'];
const security = allowKeys('full');

export const eraseProfile = createRoute({
  method: 'delete',
  path: '/v1/profiles/{namespace}/{userId}',
  tags,
  security,
  summary: 'Erase a person (GDPR Art. 17)',
  description:
    "Deletes the profile and every row that holds the person's data: attributes, consents, push tokens, audience memberships, topic subscriptions, rendered messages, outbox copies, tracked links and events, and pending webhook events of its deliveries, events received for it and its waits for events (those runs end at their timeout). Deliveries stay for the counts (execution counts, reports) without the person. A suppressed address stays suppressed, kept as a keyed hash. The audit log keeps the fact of each change under the profile's internal id. Answers 202 with what was erased, table by table (the erasure is complete when it answers); 404 when nothing is held about the key, so a second call answers 404. See docs/privacy.md for what the database files keep.",
  request: { params: ProfileKeyParams },
  responses: {
    202: { description: 'Erased (complete when this answers)', content: { 'application/json': { schema: ErasureSchema } } },
    400: problemContent('Invalid path'),
    ...v1Responses,
    404: problemContent('Nothing is held about this profile'),
  },
});

export const exportProfile = createRoute({
  method: 'get',
  path: '/v1/profiles/{namespace}/{userId}/export',
  tags,
  security,
  summary: 'Export everything held about a person (GDPR Art. 15, 20)',
  description:
    'The profile, push tokens (in full), audience memberships, its audit history (consent changes included), suppressions of its addresses, the events received for it and the runs waiting for one, and its deliveries with status, campaign, rendered content and tracking events, newest first, 1000 deliveries per page (`truncated` and `nextCursor` when more follow).',
  request: {
    params: ProfileKeyParams,
    query: z.object({ cursor: safeText(1, 2000).optional().openapi({ description: 'nextCursor from the previous page' }) }),
  },
  responses: {
    200: { description: 'The export', content: { 'application/json': { schema: ProfileExportSchema } } },
    400: problemContent('Invalid path or cursor'),
    ...v1Responses,
    404: problemContent('Nothing is held about this profile'),
  },
});
