import { DomainError, invalidRequest, notFound } from '../domain/errors';
import { AuditLogRepository } from '../repositories/audit-log';
import { TopicRepository, type TopicRecord, type TopicSubscriber, type TopicSubscriberRecord } from '../repositories/topics';
import { importInBatches, type ImportTally, type RejectedImportLine, type UnreadImportLine } from './batched-import';
import type { ServiceDependencies } from './service-dependencies';

type Deps = Pick<ServiceDependencies, 'db'>;

export type TopicView = TopicRecord & { subscriberCount: number };

/** One subscriber read from a call's body (a JSON list or an NDJSON line), or why a line was refused. */
export type SubscriberEntry = ({ line: number; kind: 'subscriber' } & TopicSubscriber) | RejectedImportLine | UnreadImportLine;

export interface SubscribeSummary extends ImportTally {
  added: number;
  /** Subscribers who were subscribed already (or named twice in the body). */
  alreadySubscribed: number;
}

const topicExists = (key: string) =>
  new DomainError('conflict', 'topic-exists', 'The topic exists', `Topic ${key} exists already; delete it first, or use another key.`);

/** The cursor is opaque to clients: the last subscriber's key, base64url JSON. */
const encodeCursor = (subscriber: TopicSubscriber) => Buffer.from(JSON.stringify([subscriber.namespace, subscriber.userId]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): TopicSubscriber {
  try {
    const [namespace, userId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof namespace === 'string' && typeof userId === 'string') return { namespace, userId };
  } catch {
    // fall through
  }
  throw invalidRequest([{ field: 'cursor', message: 'not a cursor from a previous page' }], 'Pass nextCursor from the previous page as it was.');
}

/** The topic, or 404. */
export async function existingTopic(deps: Deps, key: string): Promise<TopicRecord> {
  const topic = await new TopicRepository(deps.db).get(key);
  if (!topic) throw notFound(`Topic ${key}`);
  return topic;
}

/** Creates a topic with its audit entry; 409 when the key is taken. */
export function createTopic(deps: Deps, request: { key: string; name: string }, actorKeyId: string): Promise<TopicRecord> {
  return deps.db.transaction().execute(async (trx) => {
    const created = await new TopicRepository(trx).create(request.key, request.name);
    if (!created) throw topicExists(request.key);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'topic.created', resourceType: 'topic', resourceId: created.key, after: created });
    return created;
  });
}

export async function topicView(deps: Deps, key: string): Promise<TopicView> {
  const topic = await existingTopic(deps, key);
  return { ...topic, subscriberCount: await new TopicRepository(deps.db).subscriberCount(key) };
}

/** Topics in key order; the cursor is the last key of the previous page. */
export async function listTopics(deps: Deps, query: { limit: number; cursor?: string }): Promise<{ items: TopicRecord[]; nextCursor?: string }> {
  const { items, hasMore } = await new TopicRepository(deps.db).list({ limit: query.limit, ...(query.cursor !== undefined && { after: query.cursor }) });
  return { items, ...(hasMore && { nextCursor: items[items.length - 1]!.key }) };
}

/**
 * Deletes a topic and its subscriptions, with its audit entry. Topic executions already running
 * froze their members when they were called, so they go on.
 */
export function deleteTopic(deps: Deps, key: string, actorKeyId: string): Promise<void> {
  return deps.db.transaction().execute(async (trx) => {
    const topics = new TopicRepository(trx);
    const before = await topics.get(key);
    if (!before || !(await topics.delete(key))) throw notFound(`Topic ${key}`);
    await new AuditLogRepository(trx).record({ actorKeyId, action: 'topic.deleted', resourceType: 'topic', resourceId: key, before });
  });
}

/**
 * Subscribes the entries' people to a topic as they arrive, IMPORT_BATCH_ROWS per transaction
 * (the NDJSON loop of the imports, src/services/batched-import.ts), so a stream of any size
 * holds one batch in memory; a JSON list comes the same way. Subscribing someone twice is a
 * no-op, so sending a body again is harmless. `complete` is false when an `unread` entry (a body
 * over the limit) ended it early.
 */
export async function subscribe(
  deps: Deps,
  topic: TopicRecord,
  entries: AsyncIterable<SubscriberEntry>,
): Promise<{ summary: SubscribeSummary; complete: boolean }> {
  const summary: SubscribeSummary = { received: 0, added: 0, alreadySubscribed: 0, rejected: 0, errors: [] };
  const topics = new TopicRepository(deps.db);
  const complete = await importInBatches(entries, summary, {
    rowOf: (entry: Extract<SubscriberEntry, { kind: 'subscriber' }>) => ({ row: { namespace: entry.namespace, userId: entry.userId } }),
    writeBatch: async (rows: TopicSubscriber[]) => {
      // Counted once the batch is written: a batch the database refused goes again.
      const added = await topics.subscribe(topic.key, rows);
      summary.added += added;
      summary.alreadySubscribed += rows.length - added;
    },
  });
  return { summary, complete };
}

/** Unsubscribes one person; 404 when the topic is unknown or they were not subscribed. */
export async function unsubscribe(deps: Deps, key: string, subscriber: TopicSubscriber): Promise<void> {
  await existingTopic(deps, key);
  if (!(await new TopicRepository(deps.db).unsubscribe(key, subscriber))) {
    throw notFound(`Subscriber ${subscriber.namespace}/${subscriber.userId} of topic ${key}`);
  }
}

/** A page of the topic's subscribers in (namespace, userId) order; 404 for an unknown topic. */
export async function listSubscribers(
  deps: Deps,
  key: string,
  query: { limit: number; cursor?: string },
): Promise<{ items: TopicSubscriberRecord[]; nextCursor?: string }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  await existingTopic(deps, key);
  const { items, hasMore } = await new TopicRepository(deps.db).subscribers(key, { limit: query.limit, ...(after && { after }) });
  return { items, ...(hasMore && { nextCursor: encodeCursor(items[items.length - 1]!) }) };
}
