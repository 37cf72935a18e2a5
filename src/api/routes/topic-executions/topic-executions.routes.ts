import { createRoute, z } from '@hono/zod-openapi';
import { allowKeys } from '../../access';
import { idempotencyReplayResponseHeader } from '../../idempotency-replay';
import { problemContent, v1Responses } from '../../problem';
import { jsonObject, safeText } from '../../schemas/safe-text';
import { topicKey } from '../topics/topics.routes';

const tags = ['Topic executions'];
// A backend's trigger ("X commented on a thread you follow"), as unitary calls are: full keys, and trigger keys for their campaigns.
const security = allowKeys('full', 'trigger');

export const TopicTriggerSchema = z
  .object({
    requestId: safeText(1, 128).openapi({
      description: 'Idempotency key: a repeat with the same body answers the same execution and sends nothing again.',
      example: 'comment-98765',
    }),
    campaignId: safeText(1, 64),
    topic: topicKey().openapi({ description: "The topic's key.", example: 'thread-4711' }),
    context: jsonObject()
      .optional()
      .refine((context) => context === undefined || !Object.hasOwn(context, 'system'), 'context.system is reserved; rename the key')
      .openapi({ description: 'Shared personalisation data for every subscriber, at most 200 KB of JSON; checked against the campaign contextSchema.' }),
    excludeActor: z
      .object({ namespace: safeText(1, 255), userId: safeText(1, 255) })
      .strict()
      .optional()
      .openapi({ description: 'The person who caused the call: left out even when subscribed.', example: { namespace: 'crm', userId: 'grace' } }),
  })
  .strict()
  .openapi('TopicTrigger');

const AcceptedSchema = z.object({ executionId: z.string(), requestId: z.string(), campaignId: z.string() }).openapi('TopicExecutionAccepted');

export const triggerTopic = createRoute({
  method: 'post',
  path: '/v1/executions/topic',
  tags,
  security,
  summary: "Fan a campaign out to a topic's subscribers",
  description: [
    "Sends the campaign (transactional or marketing) to every subscriber the topic has at the moment of the call, in the campaign's namespace (subscribers of other namespaces are left out), less `excludeActor`: the call freezes them into the execution, so subscribers added or removed afterwards do not change it.",
    'It runs as an audience execution (`kind: "audience"`, `audience.audienceId: "topic:<key>"` in GET /v1/executions/{executionId}): in batches, each subscriber once, with the same status, counts and recipients pages. Consent, suppressions, capping and quiet hours apply as for any send of the campaign; a subscriber without a profile is failed as profile-not-found. An empty topic completes with no recipient.',
  ].join('\n\n'),
  request: { body: { required: true, content: { 'application/json': { schema: TopicTriggerSchema } } } },
  responses: {
    202: {
      description:
        'Accepted; the run is the workflow `audience-execution/<campaignId>/<requestId>`. A repeat with the same requestId and body answers the same execution, with `Idempotency-Replay: true`.',
      headers: idempotencyReplayResponseHeader,
      content: { 'application/json': { schema: AcceptedSchema } },
    },
    400: problemContent("Schema violation, context.system, or a context that does not match the campaign's contextSchema"),
    ...v1Responses,
    404: problemContent('Unknown campaign or topic'),
    409: problemContent(
      'Campaign not live, requestId reused with a different body, or a campaign with steps (campaign-has-waiting-steps, campaign-has-steps): topic executions do not run steps yet',
    ),
    413: problemContent('Context over 200 KB'),
    422: problemContent("Now is outside the campaign schedule (campaign-outside-schedule), or the campaign's contextSchema cannot be used"),
  },
});
