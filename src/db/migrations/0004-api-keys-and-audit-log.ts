import type { Kysely, Migration } from 'kysely';

/**
 * API keys created over the API, and the audit log of changes.
 *
 * - `api_keys` stores only the SHA-256 of each token (`token_hash`, hex, unique: authentication
 *   looks keys up by it). Revoking sets `revoked_at`; the row stays so the audit log can still
 *   name the key. `campaign_ids` is a JSON array, set only for trigger keys limited to campaigns.
 * - `audit_log` has one row per change, ids are ULIDs (newest first = id descending), and
 *   `before`/`after` are JSON snapshots. It never holds a secret.
 */
export const apiKeysAndAuditLog: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('campaign_ids', 'text')
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_by_key_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      .addColumn('actor_key_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .execute();
    await db.schema.createIndex('audit_log_resource').on('audit_log').columns(['resource_type', 'resource_id', 'id']).execute();
    await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_key_id', 'id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('audit_log').execute();
    await db.schema.dropTable('api_keys').execute();
  },
};
