import { sql, type Kysely, type Migration } from 'kysely';

/**
 * What providers report after the send, and the suppression list it feeds (both dialects):
 *
 * - `deliveries.feedback`: the furthest thing a provider reported, `delayed` < `delivered` <
 *   `bounced` < `complained`; it never moves back (an event that arrives late changes nothing).
 *   `bounce_type` (`hard`|`soft`) for bounces, `feedback_at` when it was reported.
 * - `delivery_events` takes the provider's events too (`delivered`, `delayed`, `bounced`,
 *   `complained`, and opens and clicks the provider tracked), with the raw reason in `detail`
 *   (≤ 1 KB) and the provider's event id in `provider_event_id`: unique where set, so a replayed
 *   event is refused by the database itself and changes nothing a second time.
 * - `suppressions`: addresses Herald no longer sends to on a channel (normalised: email
 *   lower-cased, phone E.164), from hard bounces, complaints, the API or an import.
 * - `deliveries_message_id`: provider events name the provider's message id, nothing else.
 */
export const providerFeedback: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deliveries').addColumn('feedback', 'varchar(16)').execute();
    await db.schema.alterTable('deliveries').addColumn('bounce_type', 'varchar(8)').execute();
    await db.schema.alterTable('deliveries').addColumn('feedback_at', 'text').execute();
    await db.schema.alterTable('delivery_events').addColumn('detail', 'text').execute();
    await db.schema.alterTable('delivery_events').addColumn('provider_event_id', 'text').execute();
    await db.schema
      .createIndex('delivery_events_provider_event')
      .on('delivery_events')
      .column('provider_event_id')
      .unique()
      .where(sql.ref('provider_event_id'), 'is not', null)
      .execute();
    await db.schema.createIndex('deliveries_message_id').on('deliveries').column('message_id').execute();
    await db.schema
      .createTable('suppressions')
      .addColumn('channel', 'varchar(16)', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('reason', 'varchar(16)', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('suppressions_pk', ['channel', 'address'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('suppressions').execute();
    await db.schema.dropIndex('deliveries_message_id').execute();
    await db.schema.dropIndex('delivery_events_provider_event').execute();
    await db.schema.alterTable('delivery_events').dropColumn('provider_event_id').execute();
    await db.schema.alterTable('delivery_events').dropColumn('detail').execute();
    await db.schema.alterTable('deliveries').dropColumn('feedback_at').execute();
    await db.schema.alterTable('deliveries').dropColumn('bounce_type').execute();
    await db.schema.alterTable('deliveries').dropColumn('feedback').execute();
  },
};
