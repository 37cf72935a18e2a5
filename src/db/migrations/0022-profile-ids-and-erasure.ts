import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * Erasure (GDPR Art. 17) and the audit log's name for a profile (both dialects):
 *
 * - `profiles.id`: an internal id (`prf_` and 32 hex digits), random and unique, which new audit
 *   entries name a profile by instead of `<namespace>/<userId>` (a userId is often an address).
 *   Once the profile is erased, the id points at nothing: the audit log keeps the fact of each
 *   change, not the person. The database makes it, so every writer of `profiles` (upserts,
 *   imports, auto-created profiles, tools that insert directly) gets one without knowing:
 *   PostgreSQL through a column default; SQLite cannot add a column with a non-constant default,
 *   so a trigger fills it right after the insert. Existing rows are backfilled.
 * - Suppressions need no new column: an erased person's suppressed address is stored as a keyed
 *   hash in `address` (`hmac-sha256:…`, src/domain/address-hash.ts), which no valid email address
 *   (it has no `@`), E.164 number or push token looks like.
 */
export const profileIdsAndErasure: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('profiles').addColumn('id', 'text').execute();
    if (dialectOf(db) === 'postgres') {
      const fresh = sql`'prf_' || replace(gen_random_uuid()::text, '-', '')`;
      await sql`update profiles set id = ${fresh} where id is null`.execute(db);
      await sql`alter table profiles alter column id set default ${fresh}`.execute(db);
      await sql`alter table profiles alter column id set not null`.execute(db);
    } else {
      await sql`update profiles set id = 'prf_' || lower(hex(randomblob(16))) where id is null`.execute(db);
      await sql`create trigger profiles_internal_id after insert on profiles for each row when new.id is null
        begin update profiles set id = 'prf_' || lower(hex(randomblob(16))) where rowid = new.rowid; end`.execute(db);
    }
    await db.schema.createIndex('profiles_id').unique().on('profiles').column('id').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('profiles_id').execute();
    if (dialectOf(db) === 'sqlite') await sql`drop trigger profiles_internal_id`.execute(db);
    await db.schema.alterTable('profiles').dropColumn('id').execute();
  },
};
