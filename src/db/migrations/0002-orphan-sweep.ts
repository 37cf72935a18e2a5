import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The orphan sweep asks Temporal about running executions whose workflow it has not yet seen.
 * `workflow_confirmed_at` records that it has, so an execution that legitimately runs for hours
 * (a provider retried for up to a day) is looked up once, not on every sweep. The partial index
 * keeps the sweep's read proportional to the unconfirmed executions in flight.
 */
export const orphanSweep: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('executions').addColumn('workflow_confirmed_at', 'text').execute();
    await db.schema
      .createIndex('executions_unconfirmed_running')
      .on('executions')
      .columns(['created_at', 'id'])
      .where(sql<boolean>`status = 'running' and workflow_confirmed_at is null`)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('executions_unconfirmed_running').execute();
    await db.schema.alterTable('executions').dropColumn('workflow_confirmed_at').execute();
  },
};
