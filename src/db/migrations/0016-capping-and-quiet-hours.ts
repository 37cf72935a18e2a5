import type { Kysely, Migration } from 'kysely';

/**
 * Capping and quiet hours for marketing campaigns (both dialects):
 *
 * - `campaigns.capping`: `{max, periodHours}` as JSON text, read whole; null: no campaign cap.
 * - `campaigns.quiet_hours`: `{from, to, timezone?, action}` as JSON text; null: none.
 * - `capping_rules`: one global rule per channel, the most marketing messages one profile gets
 *   on that channel in `period_hours` hours, across campaigns.
 * - `deliveries_recipient_sent`: (namespace, user_id, status, updated_at), so counting what one
 *   profile was sent in a period reads index ranges of the profiles asked about, whatever the
 *   table's size; the campaign and its type come through the executions and campaigns primary
 *   keys. The older indexes lead with execution_id and cannot serve a per-profile count.
 */
export const cappingAndQuietHours: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('campaigns').addColumn('capping', 'text').execute();
    await db.schema.alterTable('campaigns').addColumn('quiet_hours', 'text').execute();
    await db.schema
      .createTable('capping_rules')
      .addColumn('channel', 'varchar(16)', (c) => c.primaryKey())
      .addColumn('max', 'integer', (c) => c.notNull())
      .addColumn('period_hours', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deliveries_recipient_sent').on('deliveries').columns(['namespace', 'user_id', 'status', 'updated_at']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('deliveries_recipient_sent').execute();
    await db.schema.dropTable('capping_rules').execute();
    await db.schema.alterTable('campaigns').dropColumn('quiet_hours').execute();
    await db.schema.alterTable('campaigns').dropColumn('capping').execute();
  },
};
