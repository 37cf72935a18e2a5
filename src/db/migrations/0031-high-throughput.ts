import type { Kysely, Migration } from 'kysely';

/**
 * High-throughput campaigns (issue 23, ADR 0010), both dialects:
 *
 * - `campaigns.throughput`: `standard` (every campaign so far) or `high`.
 * - `ht_triggers`: the dispatch queue. An accepted high-throughput trigger is an execution with
 *   its pending deliveries, as any other, plus one row here, written in the same transaction. The
 *   partition's dispatcher claims rows by stamping a `batch_id` (a batch that is claimed and not
 *   yet done is resumed first, with the same provider keys) and deletes them with the batch's
 *   outcomes, so the table holds only what is still to send.
 * - `ht_triggers_claim` on (dispatch_partition, batch_id, execution_id): the claim's "oldest unclaimed of
 *   my partition" and the resume's "a claimed batch of my partition".
 */
export const highThroughput: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('campaigns')
      .addColumn('throughput', 'varchar(16)', (c) => c.notNull().defaultTo('standard'))
      .execute();
    await db.schema
      .createTable('ht_triggers')
      .addColumn('execution_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('dispatch_partition', 'integer', (c) => c.notNull())
      .addColumn('batch_id', 'varchar(64)')
      .addColumn('accepted_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ht_triggers_claim').on('ht_triggers').columns(['dispatch_partition', 'batch_id', 'execution_id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('ht_triggers_claim').execute();
    await db.schema.dropTable('ht_triggers').execute();
    await db.schema.alterTable('campaigns').dropColumn('throughput').execute();
  },
};
