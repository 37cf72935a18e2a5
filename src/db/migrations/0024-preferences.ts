import type { Kysely, Migration } from 'kysely';

/**
 * Preferences (issue 21, docs/preferences.md), both dialects, plain text columns:
 *
 * - `categories`: what a campaign is about (`billing`, `security`), keyed by a slug. `critical`
 *   (0 or 1): its messages cannot be turned off. `default_channels`: JSON `{"email":true,…}`, what
 *   a person who set nothing gets.
 * - `campaigns.category`: the category key a campaign carries; null: none. Deleting a category a
 *   campaign carries is refused, so the index serves that check.
 * - `profile_preferences`: one row per person who set any (namespace, userId), the channels and
 *   per-category channels they turned on or off, as JSON. Read per preparation for all its
 *   recipients at once (the primary key), erased and exported with the profile.
 */
export const preferences: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('categories')
      .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('critical', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('default_channels', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema.alterTable('campaigns').addColumn('category', 'varchar(64)').execute();
    await db.schema.createIndex('campaigns_category').on('campaigns').column('category').execute();

    await db.schema
      .createTable('profile_preferences')
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('channels', 'text', (c) => c.notNull())
      .addColumn('categories', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('profile_preferences_pk', ['namespace', 'user_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('profile_preferences').execute();
    await db.schema.dropIndex('campaigns_category').execute();
    await db.schema.alterTable('campaigns').dropColumn('category').execute();
    await db.schema.dropTable('categories').execute();
  },
};
