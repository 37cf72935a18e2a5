import type { Kysely, Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * The rate-limit counters that API replicas on one PostgreSQL database share (see
 * src/api/middlewares/shared-counter-table.ts). The shape is rate-limiter-flexible's
 * RateLimiterPostgres table, created here so the library never runs DDL at runtime; keep the
 * column order, its upsert inserts by position. `key` is the limiter's prefix and the caller,
 * `points` what the caller spent in the window, `expire` when the window ends (epoch ms).
 * There is no index on `expire`: rows change every window, and the sweep that deletes expired
 * rows runs only every few minutes.
 *
 * SQLite: nothing to do. Its API limits calls in process, so the migration only keeps both
 * dialects at the same list of migrations.
 */
export const rateLimitCounters: Migration = {
  async up(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    await db.schema
      .createTable('rate_limit_counters')
      .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expire', 'bigint')
      .execute();
  },
  async down(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    await db.schema.dropTable('rate_limit_counters').execute();
  },
};
