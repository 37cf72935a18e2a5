import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * Profile attributes and consents become queryable JSON, for audiences filtered in SQL.
 *
 * - PostgreSQL: both columns become `jsonb` (parsed once on write, compared structurally, and
 *   indexable), and `profiles_attributes_gin` is a GIN index with the default `jsonb_ops` class:
 *   it serves containment (`attributes @> '{"plan":"pro"}'`), key existence (`?`, `?|`, `?&`)
 *   and jsonpath (`@?`, `@@`), the operators an audience filter compiles to. `jsonb_path_ops`
 *   would be smaller but serves containment only.
 * - SQLite: the columns stay TEXT, which `json_extract(attributes, '$.plan')` reads as it is. An
 *   index there is an expression index per attribute path, created when a filter needs it; a
 *   generic one does not exist in SQLite.
 *
 * The other JSON columns (campaign content, snapshots, contexts, audit before/after) stay TEXT on
 * both: they are read whole and never filtered on, and TEXT keeps them byte for byte.
 */
export const queryableProfiles: Migration = {
  async up(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    for (const column of ['attributes', 'consents']) {
      await sql`alter table profiles alter column ${sql.ref(column)} drop default`.execute(db);
      await sql`alter table profiles alter column ${sql.ref(column)} type jsonb using ${sql.ref(column)}::jsonb`.execute(db);
      await sql`alter table profiles alter column ${sql.ref(column)} set default '{}'::jsonb`.execute(db);
    }
    await sql`create index profiles_attributes_gin on profiles using gin (attributes)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    if (dialectOf(db) !== 'postgres') return;
    await sql`drop index profiles_attributes_gin`.execute(db);
    for (const column of ['attributes', 'consents']) {
      await sql`alter table profiles alter column ${sql.ref(column)} drop default`.execute(db);
      await sql`alter table profiles alter column ${sql.ref(column)} type text using ${sql.ref(column)}::text`.execute(db);
      await sql`alter table profiles alter column ${sql.ref(column)} set default '{}'`.execute(db);
    }
  },
};
