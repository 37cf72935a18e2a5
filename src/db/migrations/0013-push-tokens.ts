import type { Kysely, Migration } from 'kysely';

/**
 * Push tokens registered on a profile (`PUT /v1/profiles/{namespace}/{userId}/push-tokens`): one
 * row per device (namespace, userId, token), with the app it belongs to and its platform
 * (`ios`, `android` or `web`; for web the token is the Web Push subscription JSON). A token the
 * provider reports as gone is deleted by the send activity. Plain text columns on both dialects;
 * the index serves the send-time delete, which knows the user id and the token.
 */
export const pushTokens: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('push_tokens')
      .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('app_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('platform', 'varchar(16)', (c) => c.notNull())
      .addColumn('token', 'varchar(2048)', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('push_tokens_pk', ['namespace', 'user_id', 'token'])
      .execute();
    await db.schema.createIndex('push_tokens_user_token').on('push_tokens').columns(['user_id', 'token']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('push_tokens_user_token').execute();
    await db.schema.dropTable('push_tokens').execute();
  },
};
