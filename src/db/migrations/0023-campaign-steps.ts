import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * Campaign steps (docs/steps.md), both dialects:
 *
 * - `campaigns.steps`: the campaign's steps (JSON text); null: none, one send as before.
 * - `executions.cancellation_key`: the trigger's cancellationKey; `POST /v1/executions/cancel`
 *   finds the running executions of a campaign by it. `executions.digest_execution_id`: the
 *   execution whose digest this trigger joined (the digest's first trigger names itself).
 * - `deliveries.step_id`: the send step a delivery is the message of; null for step-less campaigns.
 *   Later send steps get positions of their own (src/domain/campaign-steps.ts, sendStepPosition),
 *   so one recipient may have several deliveries in one execution: the primary key becomes
 *   (execution_id, position), unique since 0015. PostgreSQL drops the old key; SQLite cannot
 *   change a primary key in place, so the table is rebuilt with its indexes (the documented
 *   twelve-step procedure: https://sqlite.org/lang_altertable.html#otheralter).
 * - `execution_steps`: where each recipient of an execution stands in each step it reached
 *   (waiting, done, stopped, cancelled); the status API reads it. Ids, times and reasons only.
 * - `digests`: one per digest, keyed by the execution that opened it. `open_key` (campaign and the
 *   hash of the recipient and rendered key) is set while it takes triggers and is unique, so two
 *   triggers racing for the same digest find one; the window's end is a timer in the opening
 *   execution's workflow, never a row read by a poller.
 * - `event_waits`: a recipient waiting in a waitForEvent step, found by `POST /v1/events`, which
 *   signals the workflow. `match_value` is the JSON of `context.<match>`; the row goes when the wait ends.
 * - `inbound_events`: events received with an eventId, so a repeat answers the same `matched`.
 */
export const campaignSteps: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('campaigns').addColumn('steps', 'text').execute();
    await db.schema.alterTable('executions').addColumn('cancellation_key', 'text').execute();
    await db.schema.alterTable('executions').addColumn('digest_execution_id', 'text').execute();
    await db.schema.createIndex('executions_cancellation').on('executions').columns(['campaign_id', 'cancellation_key']).execute();
    await db.schema.createIndex('executions_digest').on('executions').columns(['digest_execution_id']).execute();
    await db.schema.alterTable('deliveries').addColumn('step_id', 'text').execute();
    await keyDeliveriesByPosition(db);

    await db.schema
      .createTable('execution_steps')
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('until', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('execution_steps_pk', ['execution_id', 'position', 'step_id'])
      .execute();

    await db.schema
      .createTable('digests')
      .addColumn('execution_id', 'text', (c) => c.primaryKey())
      .addColumn('campaign_id', 'text', (c) => c.notNull())
      .addColumn('open_key', 'text')
      .addColumn('opened_at', 'text', (c) => c.notNull())
      .addColumn('closes_at', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'text')
      .execute();
    await db.schema.createIndex('digests_open_key').unique().on('digests').column('open_key').execute();

    await db.schema
      .createTable('event_waits')
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('workflow_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('match_value', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_waits_pk', ['execution_id', 'position', 'step_id'])
      .execute();
    await db.schema.createIndex('event_waits_recipient').on('event_waits').columns(['namespace', 'user_id', 'name']).execute();

    await db.schema
      .createTable('inbound_events')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('matched', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('inbound_events_recipient').on('inbound_events').columns(['namespace', 'user_id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('inbound_events').execute();
    await db.schema.dropTable('event_waits').execute();
    await db.schema.dropTable('digests').execute();
    await db.schema.dropTable('execution_steps').execute();
    await db.schema.alterTable('deliveries').dropColumn('step_id').execute();
    await db.schema.dropIndex('executions_digest').execute();
    await db.schema.dropIndex('executions_cancellation').execute();
    await db.schema.alterTable('executions').dropColumn('digest_execution_id').execute();
    await db.schema.alterTable('executions').dropColumn('cancellation_key').execute();
    await db.schema.alterTable('campaigns').dropColumn('steps').execute();
  },
};

/** The deliveries' primary key becomes (execution_id, position): one recipient, several messages. */
async function keyDeliveriesByPosition(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`alter table deliveries drop constraint deliveries_pk`.execute(db);
    await sql`alter table deliveries add constraint deliveries_pk primary key (execution_id, position)`.execute(db);
    return;
  }
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'deliveries'`.execute(db);
  const ddl = table.rows[0]?.sql ?? '';
  const oldKey = /constraint\s+"deliveries_pk"\s+primary key\s*\(\s*"execution_id"\s*,\s*"user_id"\s*\)/i;
  if (!oldKey.test(ddl)) throw new Error(`deliveries has an unexpected primary key; its DDL: ${ddl}`);
  const rebuilt = ddl
    .replace(oldKey, 'constraint "deliveries_pk" primary key ("execution_id", "position")')
    .replace(/^create table\s+"?deliveries"?/i, 'create table "deliveries_rebuilt"');
  // Indexes and triggers go with the old table: their DDL is read first and run again on the new one.
  const dependents = await sql<{
    sql: string;
  }>`select sql from sqlite_master where tbl_name = 'deliveries' and type in ('index', 'trigger') and sql is not null`.execute(db);
  await sql.raw(rebuilt).execute(db);
  await sql`insert into deliveries_rebuilt select * from deliveries`.execute(db);
  await sql`drop table deliveries`.execute(db);
  await sql`alter table deliveries_rebuilt rename to deliveries`.execute(db);
  for (const { sql: statement } of dependents.rows) await sql.raw(statement).execute(db);
}
