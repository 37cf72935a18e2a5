import { sql, type Kysely, type Migration } from 'kysely';

/**
 * GET /v1/executions lists executions newest first, by `created_at` then `id` (the keyset its
 * cursor carries), with or without filters, and stays fast at millions of rows on both dialects.
 *
 * - The order is `created_at`, not the ULID's time: the id is made before the row is written
 *   (and a monotonic factory keeps counting on after a clock step back), so the two can differ,
 *   and `createdAfter`/`createdBefore` must be exact. `id` breaks ties within a millisecond.
 * - One index per filter that narrows the list, each ending in (created_at, id), so a page is one
 *   backward range scan that stops after `limit` rows, whatever the filter or the cursor:
 *   none; campaign; status (rare statuses, like running among a million completed, included);
 *   campaign and status; the API key that started it (what a trigger key lists).
 *   `requestId` has its unique index (one row at most).
 * - Audience executions are few beside unitary ones: a partial index lists them (`kind=audience`)
 *   without reading past the unitary ones; `kind=unitary` reads the main index.
 * - executions_listing_key replaces executions_started_by_key (started_by_key_id, id) from 0003,
 *   which no query used: an index fewer to write on every trigger.
 */
const LISTING_INDEXES: [name: string, columns: string[]][] = [
  ['executions_listing', ['created_at', 'id']],
  ['executions_listing_campaign', ['campaign_id', 'created_at', 'id']],
  ['executions_listing_status', ['status', 'created_at', 'id']],
  ['executions_listing_campaign_status', ['campaign_id', 'status', 'created_at', 'id']],
  ['executions_listing_key', ['started_by_key_id', 'created_at', 'id']],
];

export const executionListing: Migration = {
  async up(db: Kysely<unknown>) {
    for (const [name, columns] of LISTING_INDEXES) await db.schema.createIndex(name).on('executions').columns(columns).execute();
    await db.schema.dropIndex('executions_started_by_key').execute();
    await db.schema.createIndex('executions_listing_audience').on('executions').columns(['created_at', 'id']).where(sql<boolean>`kind = 'audience'`).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('executions_listing_audience').execute();
    for (const [name] of [...LISTING_INDEXES].reverse()) await db.schema.dropIndex(name).execute();
    await db.schema.createIndex('executions_started_by_key').on('executions').columns(['started_by_key_id', 'id']).execute();
  },
};
