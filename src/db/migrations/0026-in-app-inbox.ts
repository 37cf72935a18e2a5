import type { Kysely, Migration } from 'kysely';

/**
 * The in-app channel's inbox (issue 21, docs/inbox.md), both dialects, plain columns only:
 *
 * - `inbox_messages`: one row per in-app message, written by the send (src/channels/in-app/).
 *   `data` is the content's JSON object as text; `seen_at`, `read_at` and `archived_at` are the
 *   subscriber's changes (null: not yet).
 * - Unique on (execution_id, position): a retried send finds the row it stored and stores no second.
 * - `inbox_messages_feed` on (namespace, user_id, created_at desc, id): the feed's newest-first
 *   keyset page of one person, and erasure and export of a person.
 */
export const inAppInbox: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('inbox_messages')
      .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
      .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('campaign_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('execution_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('action_url', 'text')
      .addColumn('data', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text')
      .addColumn('read_at', 'text')
      .addColumn('archived_at', 'text')
      .addUniqueConstraint('inbox_messages_delivery', ['execution_id', 'position'])
      .execute();
    await db.schema.createIndex('inbox_messages_feed').on('inbox_messages').columns(['namespace', 'user_id', 'created_at desc', 'id desc']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('inbox_messages_feed').execute();
    await db.schema.dropTable('inbox_messages').execute();
  },
};
