import type { RouteHandler, z } from '@hono/zod-openapi';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import {
  createTopic,
  deleteTopic,
  existingTopic,
  listSubscribers,
  listTopics,
  subscribe,
  topicView,
  unsubscribe,
  type SubscriberEntry,
} from '../../../services/topics';
import { checkedNdjsonEntries, NdjsonCutShort } from '../../ndjson-body';
import { ndjsonLines, type NdjsonLine } from '../../ndjson-lines';
import { Problem } from '../../problem';
import { TopicSubscriberSchema, type TopicSubscribersBodySchema } from './topics.routes';
import type * as routes from './topics.routes';

const NDJSON_MEDIA_TYPE = 'application/x-ndjson';

/** Each line of an NDJSON body checked against its schema; a body over the limit ends in an `unread` entry. */
const ndjsonEntries = (lines: AsyncIterable<NdjsonLine>): AsyncGenerator<SubscriberEntry> =>
  checkedNdjsonEntries(lines, TopicSubscriberSchema, (line, subscriber) => ({ line, kind: 'subscriber' as const, ...subscriber }));

/** A JSON list, validated whole by the route, as the same entries an NDJSON body gives. */
async function* listEntries(subscribers: { namespace: string; userId: string }[]): AsyncGenerator<SubscriberEntry> {
  for (const [i, subscriber] of subscribers.entries()) yield { line: i + 1, kind: 'subscriber', ...subscriber };
}

const unsupportedMediaType = () =>
  new Problem(
    415,
    'unsupported-media-type',
    'Unsupported media type',
    `Send the subscribers as JSON ({"subscribers": [...]}, Content-Type application/json) or as NDJSON (Content-Type ${NDJSON_MEDIA_TYPE}).`,
    undefined,
    { connection: 'close' },
  );

export function topicHandlers(deps: ServiceDependencies) {
  const create: RouteHandler<typeof routes.createTopic> = async (c) => c.json(await createTopic(deps, c.req.valid('json'), c.var.principal.keyId), 201);

  const list: RouteHandler<typeof routes.listTopics> = async (c) => c.json(await listTopics(deps, c.req.valid('query')), 200);

  const get: RouteHandler<typeof routes.getTopic> = async (c) => c.json(await topicView(deps, c.req.valid('param').key), 200);

  const remove: RouteHandler<typeof routes.deleteTopic> = async (c) => {
    await deleteTopic(deps, c.req.valid('param').key, c.var.principal.keyId);
    return c.body(null, 204);
  };

  const putSubscribers: RouteHandler<typeof routes.putSubscribers> = async (c) => {
    const topic = await existingTopic(deps, c.req.valid('param').key);
    const contentType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (contentType === NDJSON_MEDIA_TYPE) {
      const { maxBytes, maxLineBytes } = deps.config.profileImport;
      // The raw stream, never c.req.json() or the like: those would hold the whole body.
      const lines = ndjsonLines(c.req.raw.body, { maxLineBytes, maxBodyBytes: maxBytes });
      const { summary, complete } = await subscribe(deps, topic, ndjsonEntries(lines));
      if (!complete) throw new NdjsonCutShort(summary, maxBytes, 'Subscriber');
      return c.json(summary, 200);
    }
    // The route's validator checked a JSON body; without one (no Content-Type, no body) there is nothing to read.
    if (!contentType) throw unsupportedMediaType();
    // The NDJSON media type (a plain schema) hides the JSON body's type from the route's typing; the route's validator checked it.
    const { subscribers } = c.req.valid('json' as never) as z.infer<typeof TopicSubscribersBodySchema>;
    const { summary } = await subscribe(deps, topic, listEntries(subscribers));
    return c.json(summary, 200);
  };

  const subscribers: RouteHandler<typeof routes.listSubscribers> = async (c) =>
    c.json(await listSubscribers(deps, c.req.valid('param').key, c.req.valid('query')), 200);

  const removeSubscriber: RouteHandler<typeof routes.deleteSubscriber> = async (c) => {
    const { key, namespace, userId } = c.req.valid('param');
    await unsubscribe(deps, key, { namespace, userId });
    return c.body(null, 204);
  };

  return { create, list, get, remove, putSubscribers, subscribers, removeSubscriber };
}
