import type { Kysely, Migration } from 'kysely';

/**
 * Audiences: who an audience run sends to.
 *
 * - `audiences`: `type` is `rule` or `static`; `definition` is the JSON the API took
 *   (`{type, where}` for a rule), TEXT on both dialects: it is read whole and compiled to SQL
 *   over `profiles`, never filtered on itself. Ids are ULIDs (newest first = id descending).
 * - `audience_members`: the user ids of a static audience, one row each (the primary key makes
 *   adding one twice a no-op). `namespace` is the audience's, kept on the row so a run can join
 *   members to profiles without the audience. A member needs no profile yet. Deleting the
 *   audience deletes its members.
 */
export const audiences: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('audiences')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('audience_members')
      .addColumn('audience_id', 'text', (c) => c.notNull().references('audiences.id').onDelete('cascade'))
      .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('added_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('audience_members_pk', ['audience_id', 'user_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('audience_members').execute();
    await db.schema.dropTable('audiences').execute();
  },
};
