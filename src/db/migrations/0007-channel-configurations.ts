import type { Kysely, Migration } from 'kysely';

/**
 * Channel configurations (AJO's "surfaces") and the campaigns' reference to one.
 *
 * - `channel_configurations`: `settings` is JSON text, read whole, and never holds a secret:
 *   settings name the environment variables the worker reads credentials from.
 * - `campaigns.channel_configuration_id`: nullable; null means the channel's default provider,
 *   so campaigns from before keep sending as they did. Indexed for the "in use by a live
 *   campaign" check on delete.
 */
export const channelConfigurations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('channel_configurations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('campaigns').addColumn('channel_configuration_id', 'text').execute();
    await db.schema.createIndex('campaigns_channel_configuration').on('campaigns').columns(['channel_configuration_id', 'status']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('campaigns_channel_configuration').execute();
    await db.schema.alterTable('campaigns').dropColumn('channel_configuration_id').execute();
    await db.schema.dropTable('channel_configurations').execute();
  },
};
