import type { Kysely, Migration } from 'kysely';

/**
 * Topics (issue 21, docs/topics.md), both dialects, plain columns only:
 *
 * - `topics`: one row per topic, keyed by the caller's `key` (a slug, src/domain/topic.ts).
 * - `topic_subscriptions`: who a topic reaches, one row per (topic, namespace, userId); the
 *   primary key makes a second subscription a no-op and serves the paged list (namespace, then
 *   userId) and the snapshot a topic execution freezes (one namespace of one topic). A subscriber
 *   needs no profile. Deleting the topic deletes its subscriptions; a topic execution already
 *   froze its own copy into its deliveries, so it is not affected.
 * - An index on (namespace, user_id): erasure and export find a person's subscriptions by it.
 */
export const topics: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('topics')
      .addColumn('key', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('topic_subscriptions')
      .addColumn('topic_key', 'varchar(128)', (c) => c.notNull().references('topics.key').onDelete('cascade'))
      .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('subscribed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('topic_subscriptions_pk', ['topic_key', 'namespace', 'user_id'])
      .execute();
    await db.schema.createIndex('topic_subscriptions_person').on('topic_subscriptions').columns(['namespace', 'user_id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('topic_subscriptions_person').execute();
    await db.schema.dropTable('topic_subscriptions').execute();
    await db.schema.dropTable('topics').execute();
  },
};
