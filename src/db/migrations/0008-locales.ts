import type { Kysely, Migration } from 'kysely';

/**
 * Multilingual content. `profiles.locale` is the profile's BCP 47 language tag (canonical form,
 * null when unknown), which chooses the content's language variant; `deliveries.locale` records
 * the variant a recipient's message was rendered from (`default` or the translation's tag), null
 * until preparation renders one. Plain nullable text on both dialects: existing rows need no
 * backfill, and neither column is filtered on.
 */
export const locales: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('profiles').addColumn('locale', 'varchar(64)').execute();
    await db.schema.alterTable('deliveries').addColumn('locale', 'varchar(64)').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('deliveries').dropColumn('locale').execute();
    await db.schema.alterTable('profiles').dropColumn('locale').execute();
  },
};
