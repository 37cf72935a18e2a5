import type { Kysely, Selectable, SelectQueryBuilder, Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Database, TopicTable } from '../db/schema';

export interface TopicRecord {
  key: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** One subscriber of a topic: a profile key, with or without a profile. */
export interface TopicSubscriber {
  namespace: string;
  userId: string;
}

export interface TopicSubscriberRecord extends TopicSubscriber {
  subscribedAt: string;
}

/** Rows per INSERT: 500 × 4 parameters stays far below both dialects' limits. */
const INSERT_CHUNK = 500;

function toTopic(row: Selectable<TopicTable>): TopicRecord {
  return { key: row.key, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Topics and their subscriptions (migration 0025). */
export class TopicRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Creates a topic; undefined when the key is taken (that topic is left as it was). */
  async create(key: string, name: string): Promise<TopicRecord | undefined> {
    const now = new Date().toISOString();
    const row = { key, name, created_at: now, updated_at: now };
    const result = await this.db
      .insertInto('topics')
      .values(row)
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? toTopic(row) : undefined;
  }

  async get(key: string): Promise<TopicRecord | undefined> {
    const row = await this.db.selectFrom('topics').selectAll().where('key', '=', key).executeTakeFirst();
    return row && toTopic(row);
  }

  /** In key order; the cursor is the last key of the previous page. */
  async list(options: { limit: number; after?: string }): Promise<{ items: TopicRecord[]; hasMore: boolean }> {
    let query = this.db
      .selectFrom('topics')
      .selectAll()
      .orderBy('key')
      .limit(options.limit + 1);
    if (options.after !== undefined) query = query.where('key', '>', options.after);
    const rows = await query.execute();
    return { items: rows.slice(0, options.limit).map(toTopic), hasMore: rows.length > options.limit };
  }

  /** Deletes the topic and, by cascade, its subscriptions. */
  async delete(key: string): Promise<boolean> {
    const result = await this.db.deleteFrom('topics').where('key', '=', key).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** How many subscribers the topic has now, every namespace together. */
  async subscriberCount(key: string): Promise<number> {
    const { n } = await this.db
      .selectFrom('topic_subscriptions')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('topic_key', '=', key)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Subscribes people to a topic; answers how many were not subscribed yet (a second subscription is a no-op). */
  async subscribe(key: string, subscribers: TopicSubscriber[]): Promise<number> {
    const now = new Date().toISOString();
    let added = 0;
    for (let i = 0; i < subscribers.length; i += INSERT_CHUNK) {
      const result = await this.db
        .insertInto('topic_subscriptions')
        .values(subscribers.slice(i, i + INSERT_CHUNK).map((s) => ({ topic_key: key, namespace: s.namespace, user_id: s.userId, subscribed_at: now })))
        .onConflict((oc) => oc.columns(['topic_key', 'namespace', 'user_id']).doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
    return added;
  }

  /** Unsubscribes one person; false when they were not subscribed. */
  async unsubscribe(key: string, subscriber: TopicSubscriber): Promise<boolean> {
    const result = await this.db
      .deleteFrom('topic_subscriptions')
      .where('topic_key', '=', key)
      .where('namespace', '=', subscriber.namespace)
      .where('user_id', '=', subscriber.userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** A page of subscribers in (namespace, userId) order, after the given one. */
  async subscribers(key: string, options: { limit: number; after?: TopicSubscriber }): Promise<{ items: TopicSubscriberRecord[]; hasMore: boolean }> {
    let query = this.db
      .selectFrom('topic_subscriptions')
      .select(['namespace', 'user_id', 'subscribed_at'])
      .where('topic_key', '=', key)
      .orderBy('namespace')
      .orderBy('user_id')
      .limit(options.limit + 1);
    const { after } = options;
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('namespace', '>', after.namespace), eb.and([eb('namespace', '=', after.namespace), eb('user_id', '>', after.userId)])]),
      );
    }
    const rows = await query.execute();
    return {
      items: rows.slice(0, options.limit).map((row) => ({ namespace: row.namespace, userId: row.user_id, subscribedAt: row.subscribed_at })),
      hasMore: rows.length > options.limit,
    };
  }

  /**
   * The topic's subscribers of one namespace, less `except`, as a kysely select of one column
   * `user_id`, for the INSERT … SELECT that freezes a topic execution's members
   * (AudienceRunRepository.freeze) in the given transaction.
   */
  subscriberUserIds(
    db: Kysely<Database> | Transaction<Database>,
    key: string,
    namespace: string,
    except?: string,
  ): SelectQueryBuilder<Database, 'topic_subscriptions', { user_id: string }> {
    const query = db
      .selectFrom('topic_subscriptions')
      .select('topic_subscriptions.user_id')
      .where('topic_subscriptions.topic_key', '=', key)
      .where('topic_subscriptions.namespace', '=', namespace);
    return except === undefined ? query : query.where('topic_subscriptions.user_id', '!=', except);
  }
}
