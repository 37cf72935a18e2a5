import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * PostgreSQL: the shared rate-limit counters (migration 0006) become an UNLOGGED table. Every call
 * to /v1 spends a point there, one upsert in a transaction of its own; logged, each such commit
 * waited for a WAL flush to disk, a sync per API call (issue 23's profile: PostgreSQL was the
 * largest CPU user of the high-throughput accept path). Counters need no durability: after a
 * crash PostgreSQL empties an unlogged table, which only gives every caller a fresh window, and
 * standbys do not carry it, which a replica promoted to primary treats the same way.
 *
 * SQLite: nothing to do (its API counts in process).
 */
export const unloggedRateLimitCounters: Migration = {
  async up(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    await sql`alter table rate_limit_counters set unlogged`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    await sql`alter table rate_limit_counters set logged`.execute(db);
  },
};
