import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Workflow histories carry ids; the content lives here.
 * - The trigger's shared context and each recipient's context and channelData are stored with
 *   the execution, so the workflow input is only `{executionId, campaignId, requestId}`.
 * - `rendered_messages` holds what a recipient is sent, written by the preparation step and read
 *   by the send activity: no address or body travels through Temporal.
 * - Executions keep outcome counts, so retention can drop delivery details and still answer.
 * - `started_by_key_id` lets a trigger-scoped API key read the executions it started.
 * - The orphan sweep no longer trusts a workflow for ever once it has seen it: it records when it
 *   last checked (`workflow_checked_at`) and checks running executions again, so a workflow that
 *   was terminated or timed out is reconciled from its status.
 */
export const referencesNotContent: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('executions').addColumn('context', 'text').execute();
    await db.schema.alterTable('executions').addColumn('started_by_key_id', 'text').execute();
    await db.schema
      .alterTable('executions')
      .addColumn('sent_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('executions')
      .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('executions')
      .addColumn('excluded_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('executions').addColumn('details_purged_at', 'text').execute();
    await db.schema.alterTable('executions').renameColumn('workflow_confirmed_at', 'workflow_checked_at').execute();
    await db.schema.dropIndex('executions_unconfirmed_running').execute();
    await db.schema.createIndex('executions_running').on('executions').columns(['created_at', 'id']).where(sql<boolean>`status = 'running'`).execute();
    await db.schema
      .createIndex('executions_purgeable')
      .on('executions')
      .columns(['completed_at', 'id'])
      .where(sql<boolean>`details_purged_at is null and completed_at is not null`)
      .execute();
    await db.schema.createIndex('executions_started_by_key').on('executions').columns(['started_by_key_id', 'id']).execute();

    await db.schema.alterTable('deliveries').addColumn('context', 'text').execute();
    await db.schema.alterTable('deliveries').addColumn('channel_data', 'text').execute();

    await db.schema
      .createTable('rendered_messages')
      .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('html', 'text')
      .addColumn('text', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('rendered_messages_pk', ['execution_id', 'position'])
      .execute();
    await db.schema.createIndex('outbox_execution').on('outbox').column('execution_id').execute();

    // Executions closed before this migration get their counts from their deliveries.
    for (const [column, status] of [
      ['sent_count', 'sent'],
      ['failed_count', 'failed'],
      ['excluded_count', 'excluded'],
    ] as const) {
      await sql`update executions set ${sql.ref(column)} = (select count(*) from deliveries d where d.execution_id = executions.id and d.status = ${status})`.execute(
        db,
      );
    }
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('outbox_execution').execute();
    await db.schema.dropTable('rendered_messages').execute();
    await db.schema.alterTable('deliveries').dropColumn('channel_data').execute();
    await db.schema.alterTable('deliveries').dropColumn('context').execute();
    await db.schema.dropIndex('executions_started_by_key').execute();
    await db.schema.dropIndex('executions_purgeable').execute();
    await db.schema.dropIndex('executions_running').execute();
    await db.schema.alterTable('executions').renameColumn('workflow_checked_at', 'workflow_confirmed_at').execute();
    await db.schema
      .createIndex('executions_unconfirmed_running')
      .on('executions')
      .columns(['created_at', 'id'])
      .where(sql<boolean>`status = 'running' and workflow_confirmed_at is null`)
      .execute();
    for (const column of ['details_purged_at', 'excluded_count', 'failed_count', 'sent_count', 'started_by_key_id', 'context']) {
      await db.schema.alterTable('executions').dropColumn(column).execute();
    }
  },
};
