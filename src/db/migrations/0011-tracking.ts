import type { Kysely, Migration } from 'kysely';

/**
 * Engagement tracking (email opens and clicks), the same on both dialects:
 *
 * - `campaigns.tracking`: `{opens?, clicks?}` as JSON text, read whole; null: not tracked.
 * - `deliveries.tracking`: what a recipient's message tracks (`opens`, `clicks` or
 *   `opens,clicks`), set by preparation; null: an untracked message.
 * - `tracked_links`: the original URL of each rewritten link, by (execution, position, link
 *   index). The click endpoint redirects only to a URL read from here, never to one a token
 *   carries.
 * - `delivery_events`: one row per recorded open or click (`link_index` for clicks), with the
 *   time and the client's User-Agent cut to 256 characters. No IP address is stored. Indexed by
 *   delivery, for the execution status's counts and for retention, which purges both tables
 *   with the deliveries.
 */
export const tracking: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('campaigns').addColumn('tracking', 'text').execute();
    await db.schema.alterTable('deliveries').addColumn('tracking', 'varchar(32)').execute();
    await db.schema
      .createTable('tracked_links')
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('link_index', 'integer', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tracked_links_pk', ['execution_id', 'position', 'link_index'])
      .execute();
    await db.schema
      .createTable('delivery_events')
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('link_index', 'integer')
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      .addColumn('user_agent', 'text')
      .execute();
    await db.schema.createIndex('delivery_events_delivery').on('delivery_events').columns(['execution_id', 'position', 'type']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('delivery_events_delivery').execute();
    await db.schema.dropTable('delivery_events').execute();
    await db.schema.dropTable('tracked_links').execute();
    await db.schema.alterTable('deliveries').dropColumn('tracking').execute();
    await db.schema.alterTable('campaigns').dropColumn('tracking').execute();
  },
};
