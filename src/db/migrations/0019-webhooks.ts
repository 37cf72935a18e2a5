import type { Kysely, Migration } from 'kysely';
import { autoIncrementIdType, dialectOf } from '../dialect';

/**
 * Feedback webhooks out, to the customer (both dialects):
 *
 * - `feedback_events`: an append-only outbox of what happened to deliveries (sent, delivered,
 *   bounced, …), one row per event, written in the transaction that changed the delivery. The
 *   auto-increment id orders them: each endpoint's dispatcher workflow reads the rows after its
 *   cursor. Only ids, a position and a small `detail` JSON (failure category, code, reason; a
 *   clicked URL); the payload's requestId, campaignId, userId… are joined in at delivery time.
 *   Rows are written only while an enabled endpoint exists.
 * - `webhook_endpoints`: a customer's endpoint, its event filter (`events`, `campaign_ids`, JSON
 *   text), its signing secret encrypted with a payload key (AES-256-GCM, never stored in clear),
 *   its status and the id of the last event it acknowledged (`cursor_event_id`).
 * - `webhook_attempts`: one row per HTTP request to an endpoint, with the ids of the events it
 *   carried, the answer's status code or the error, and its duration.
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>) {
    const autoId = autoIncrementIdType(db);
    const sqlite = dialectOf(db) === 'sqlite';
    await db.schema
      .createTable('feedback_events')
      .addColumn('id', autoId, (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('occurred_at', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('feedback_events_created').on('feedback_events').columns(['created_at']).execute();

    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('campaign_ids', 'text')
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('disabled_reason', 'text')
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cursor_event_id', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_endpoints_status').on('webhook_endpoints').columns(['status']).execute();

    await db.schema
      .createTable('webhook_attempts')
      .addColumn('id', autoId, (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('event_ids', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('attempted_at', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_attempts_endpoint').on('webhook_attempts').columns(['endpoint_id', 'id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('webhook_attempts').execute();
    await db.schema.dropTable('webhook_endpoints').execute();
    await db.schema.dropTable('feedback_events').execute();
  },
};
