import { createRoute, z } from '@hono/zod-openapi';
import { MAX_SUBSCRIBERS_PER_CALL, TOPIC_KEY_MAX_LENGTH, TOPIC_KEY_PATTERN } from '../../../domain/topic';
import { MAX_IMPORT_ERRORS } from '../../../services/batched-import';
import { allowKeys } from '../../access';
import { problemContent, ProblemSchema, v1Responses } from '../../problem';
import { safeText } from '../../schemas/safe-text';

export const topicKey = () =>
  z
    .string()
    .min(1)
    .max(TOPIC_KEY_MAX_LENGTH)
    .regex(TOPIC_KEY_PATTERN, 'must be a slug: lower-case letters, digits, ".", "_" and "-", starting with a letter or a digit');

export const TopicCreateSchema = z
  .object({
    key: topicKey().openapi({ description: `A slug (at most ${TOPIC_KEY_MAX_LENGTH} characters): how calls name the topic.`, example: 'thread-4711' }),
    name: safeText(1, 255).openapi({ example: 'Followers of thread 4711' }),
  })
  .strict()
  .openapi('TopicCreate');

export const TopicSchema = z.object({ key: z.string(), name: z.string(), createdAt: z.string(), updatedAt: z.string() }).openapi('Topic');

const TopicWithCountSchema = TopicSchema.extend({
  subscriberCount: z.number().int().openapi({ description: 'Subscribers now, every namespace together (with or without a profile).' }),
}).openapi('TopicWithSubscriberCount');

/** One subscriber: a profile key, which needs no profile yet. */
export const TopicSubscriberSchema = z
  .object({
    namespace: safeText(1, 255).openapi({ example: 'crm' }),
    userId: safeText(1, 255).openapi({ example: 'ada' }),
  })
  .strict()
  .openapi('TopicSubscriber');

export const TopicSubscribersBodySchema = z
  .object({ subscribers: z.array(TopicSubscriberSchema).min(1).max(MAX_SUBSCRIBERS_PER_CALL) })
  .strict()
  .openapi('TopicSubscribers');

export const SubscribeSummarySchema = z
  .object({
    received: z.number().int().openapi({ description: 'Subscribers read (NDJSON: lines, blank ones left out): added + alreadySubscribed + rejected.' }),
    added: z.number().int(),
    alreadySubscribed: z.number().int().openapi({ description: 'Subscribers who were subscribed already (or named twice in the body).' }),
    rejected: z.number().int().openapi({ description: 'NDJSON lines skipped: not JSON, too long, or not {namespace, userId}. Always 0 for a JSON body.' }),
    errors: z
      .array(z.object({ line: z.number().int(), reason: z.string() }))
      .openapi({ description: `Why lines were skipped; the first ${MAX_IMPORT_ERRORS}.` }),
    errorsTruncated: z.literal(true).optional().openapi({ description: 'Present when more lines were skipped than errors lists.' }),
  })
  .openapi('TopicSubscribeSummary');

const SubscribeCutShortSchema = ProblemSchema.extend({ summary: SubscribeSummarySchema }).openapi('TopicSubscribeCutShort');

const SubscriberRecordSchema = z.object({ namespace: z.string(), userId: z.string(), subscribedAt: z.string() }).openapi('TopicSubscriberRecord');

const KeyParams = z.object({ key: topicKey().openapi({ param: { name: 'key', in: 'path' }, example: 'thread-4711' }) });
const SubscriberParams = KeyParams.extend({
  namespace: safeText(1, 255).openapi({ param: { name: 'namespace', in: 'path' }, example: 'crm' }),
  userId: safeText(1, 255).openapi({ param: { name: 'userId', in: 'path' }, example: 'ada' }),
});
const pageQuery = (cursor: string) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: safeText(1, 4000).optional().openapi({ description: cursor }),
  });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['Topics'];
const security = allowKeys('full');

export const createTopic = createRoute({
  method: 'post',
  path: '/v1/topics',
  tags,
  security,
  summary: 'Create a topic: a list of subscribers one call fans a campaign out to',
  request: { body: { required: true, content: { 'application/json': { schema: TopicCreateSchema } } } },
  responses: {
    201: json(TopicSchema, 'The new topic'),
    400: problemContent('Schema violation: the key is not a slug, or the name is missing'),
    ...v1Responses,
    409: problemContent('A topic with this key exists (topic-exists)'),
  },
});

export const listTopics = createRoute({
  method: 'get',
  path: '/v1/topics',
  tags,
  security,
  summary: 'List topics in key order (without their subscriber count)',
  request: { query: pageQuery('nextCursor from the previous page') },
  responses: {
    200: json(z.object({ items: z.array(TopicSchema), nextCursor: z.string().optional() }).openapi('TopicPage'), 'A page of topics'),
    400: problemContent('Invalid query'),
    ...v1Responses,
  },
});

export const getTopic = createRoute({
  method: 'get',
  path: '/v1/topics/{key}',
  tags,
  security,
  summary: 'Get a topic with its subscriber count',
  request: { params: KeyParams },
  responses: { 200: json(TopicWithCountSchema, 'The topic'), 400: problemContent('Invalid key'), ...v1Responses, 404: problemContent('Unknown topic') },
});

export const deleteTopic = createRoute({
  method: 'delete',
  path: '/v1/topics/{key}',
  tags,
  security,
  summary: 'Delete a topic and its subscriptions',
  description: 'Topic executions already called keep the subscribers they froze when they were called.',
  request: { params: KeyParams },
  responses: { 204: { description: 'Deleted' }, 400: problemContent('Invalid key'), ...v1Responses, 404: problemContent('Unknown topic') },
});

// NDJSON as a plain JSON Schema, not zod: no validator may read the whole stream. Only
// application/x-ndjson: @hono/zod-openapi takes application/jsonl for JSON and would validate it as such.
const NDJSON_BODY = {
  schema: {
    type: 'string' as const,
    format: 'binary',
    description: 'One TopicSubscriber `{namespace, userId}` per line, separated by \\n (\\r\\n accepted); blank lines are skipped.',
    example: '{"namespace":"crm","userId":"ada"}\n{"namespace":"crm","userId":"grace"}\n',
  },
};

export const putSubscribers = createRoute({
  method: 'put',
  path: '/v1/topics/{key}/subscribers',
  tags,
  security,
  summary: 'Subscribe people to a topic: a JSON list of up to 1,000, or an NDJSON stream for more',
  description: [
    `\`application/json\`: \`{"subscribers": [{"namespace", "userId"}, …]}\`, 1 to ${MAX_SUBSCRIBERS_PER_CALL} at a time, checked whole (400 when any is invalid).`,
    '`application/x-ndjson`: one `{"namespace", "userId"}` per line, streamed and written in batches of 500 as they are read, each committed on its own, so a body of any size holds one batch in memory; bad lines are reported and skipped. Bounded by HERALD_IMPORT_MAX_BYTES and HERALD_IMPORT_MAX_LINE_BYTES, as bulk imports are.',
    'Subscribing someone twice is a no-op, so sending a body again is harmless. A subscriber needs no profile yet; a topic execution reports one without a profile as failed (profile-not-found), as audience runs do.',
  ].join('\n\n'),
  request: {
    params: KeyParams,
    // Not required as a whole: an NDJSON body passes the JSON validator untouched, and the handler reads it as a stream.
    body: { required: false, content: { 'application/json': { schema: TopicSubscribersBodySchema }, 'application/x-ndjson': NDJSON_BODY } },
  },
  responses: {
    200: json(SubscribeSummarySchema, 'What was read and added'),
    400: problemContent('Schema violation (a JSON body), or an invalid key'),
    ...v1Responses,
    404: problemContent('Unknown topic'),
    413: {
      description: 'A JSON body over 1 MiB, or an NDJSON body over HERALD_IMPORT_MAX_BYTES: the lines before the limit were added, see summary',
      content: { 'application/problem+json': { schema: SubscribeCutShortSchema } },
    },
    415: problemContent('Neither application/json nor application/x-ndjson'),
  },
});

export const listSubscribers = createRoute({
  method: 'get',
  path: '/v1/topics/{key}/subscribers',
  tags,
  security,
  summary: "A page of a topic's subscribers, by namespace then userId",
  request: { params: KeyParams, query: pageQuery('nextCursor from the previous page, as it was') },
  responses: {
    200: json(z.object({ items: z.array(SubscriberRecordSchema), nextCursor: z.string().optional() }).openapi('TopicSubscriberPage'), 'A page of subscribers'),
    400: problemContent('Invalid key or query, or a cursor not from a previous page'),
    ...v1Responses,
    404: problemContent('Unknown topic'),
  },
});

export const deleteSubscriber = createRoute({
  method: 'delete',
  path: '/v1/topics/{key}/subscribers/{namespace}/{userId}',
  tags,
  security,
  summary: 'Unsubscribe one person from a topic',
  description: 'Topic executions already called keep the subscribers they froze when they were called.',
  request: { params: SubscriberParams },
  responses: {
    204: { description: 'Unsubscribed' },
    400: problemContent('Invalid key, namespace or userId'),
    ...v1Responses,
    404: problemContent('Unknown topic, or not a subscriber'),
  },
});
