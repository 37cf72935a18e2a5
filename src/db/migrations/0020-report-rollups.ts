import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * Campaign reports read rollups, not deliveries, so a report over a million delivery records
 * answers in milliseconds on both dialects (a GROUP BY over the deliveries does not).
 *
 * - `report_rollups (campaign_id, bucket_start, metric, key, count)`: counts per campaign and
 *   time bucket. Series metrics (targeted, sent, delivered, opens, …; `key` '') have 5-minute
 *   buckets; breakdowns (`excluded_reason`, `failed_reason`, `domain`, `link`, `link_unique`;
 *   `key` the reason, domain or URL) have hourly buckets, so a domain's or link's rows stay few.
 * - Fold-in, not triggers or writes in the sending paths: a report first folds what changed
 *   since the last fold into the rollups (src/repositories/report-rollups.ts), in bounded
 *   chunks, then reads them. So a report is exact up to the moment it is asked, and the code
 *   that sends or records feedback does not know reports exist.
 * - What changed, without a clock watermark (clocks and commit order disagree on PostgreSQL):
 *   `deliveries.report_signature` holds the delivery as it was last folded (status, feedback,
 *   bounce type, times, reason). A partial index keeps exactly the deliveries whose current
 *   signature differs from it; a fold subtracts what the old signature counted and adds what
 *   the new one counts. `delivery_events` are append-only: `report_folded` (the fold's sequence
 *   number) is null until folded, again with a partial index on the unfolded ones.
 * - `report_folds`: one row, updated first by every fold: a write lock on SQLite and a row lock
 *   on PostgreSQL, so two folds never count the same change twice; its `seq` numbers the folds.
 * - Retention deletes deliveries and events after they were folded: the rollups keep the counts.
 */
export const REPORT_SIGNATURE_SQL = `(status || '|' || coalesce(feedback, '') || '|' || coalesce(bounce_type, '') || '|' || updated_at || '|' || coalesce(feedback_at, '') || '|' || coalesce(reason, ''))`;

/** The deliveries not yet folded as they are now: the partial index's predicate, and the fold's. */
export function deliveriesToFoldPredicate(db: Kysely<any>): string {
  return dialectOf(db) === 'postgres' ? `report_signature is distinct from ${REPORT_SIGNATURE_SQL}` : `report_signature is not ${REPORT_SIGNATURE_SQL}`;
}

export const reportRollups: Migration = {
  async up(db: Kysely<unknown>) {
    const countType = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('report_rollups')
      .addColumn('campaign_id', 'text', (c) => c.notNull())
      .addColumn('bucket_start', 'text', (c) => c.notNull())
      .addColumn('metric', 'varchar(32)', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('count', countType, (c) => c.notNull())
      .addPrimaryKeyConstraint('report_rollups_pk', ['campaign_id', 'bucket_start', 'metric', 'key'])
      .execute();
    await db.schema
      .createTable('report_folds')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('folded_at', 'text')
      .execute();
    await sql`insert into report_folds (id, seq) values (1, 0)`.execute(db);
    await db.schema.alterTable('deliveries').addColumn('report_signature', 'text').execute();
    await db.schema.alterTable('delivery_events').addColumn('report_folded', 'integer').execute();
    await sql.raw(`create index deliveries_report_unfolded on deliveries (execution_id) where ${deliveriesToFoldPredicate(db)}`).execute(db);
    await sql.raw(`create index delivery_events_report_unfolded on delivery_events (execution_id) where report_folded is null`).execute(db);
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('delivery_events_report_unfolded').execute();
    await db.schema.dropIndex('deliveries_report_unfolded').execute();
    await db.schema.alterTable('delivery_events').dropColumn('report_folded').execute();
    await db.schema.alterTable('deliveries').dropColumn('report_signature').execute();
    await db.schema.dropTable('report_folds').execute();
    await db.schema.dropTable('report_rollups').execute();
  },
};
