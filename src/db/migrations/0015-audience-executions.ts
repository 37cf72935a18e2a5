import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Audience executions: one call for a whole audience, frozen at start.
 *
 * - `executions.kind`: `unitary` (a trigger call's 1–20 recipients) or `audience`.
 * - `executions.audience_id`, `throttle_per_second`: what the call asked for.
 * - `executions.targeted_count`: how many members the run froze (null until it started);
 *   `run_started_at`: when it froze them, by workflow time.
 * - `executions.schedule_id`, `execute_at`, `schedule_cancelled_at`: a run scheduled for later
 *   (`POST /v1/executions/audience` with `schedule.executeAt`); the schedule id is unique.
 * - `deliveries.not_before`: a message deferred by quiet hours is not sent before this instant.
 * - An index on executions (audience_id, status): deleting an audience checks for runs that need it.
 * - An index on (execution_id, position): audience runs read and write their recipients by
 *   position ranges, and the paginated recipients list walks them in that order.
 */
export const audienceExecutions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('executions')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull().defaultTo('unitary'))
      .execute();
    await db.schema.alterTable('executions').addColumn('audience_id', 'text').execute();
    await db.schema.alterTable('executions').addColumn('throttle_per_second', 'integer').execute();
    await db.schema.alterTable('executions').addColumn('targeted_count', 'integer').execute();
    await db.schema.alterTable('executions').addColumn('run_started_at', 'text').execute();
    await db.schema.alterTable('executions').addColumn('schedule_id', 'text').execute();
    await db.schema.alterTable('executions').addColumn('execute_at', 'text').execute();
    await db.schema.alterTable('executions').addColumn('schedule_cancelled_at', 'text').execute();
    await db.schema.alterTable('deliveries').addColumn('not_before', 'text').execute();
    await db.schema.createIndex('executions_schedule').unique().on('executions').column('schedule_id').where(sql.ref('schedule_id'), 'is not', null).execute();
    // Deleting an audience checks for runs that still need it.
    await db.schema
      .createIndex('executions_audience')
      .on('executions')
      .columns(['audience_id', 'status'])
      .where(sql.ref('audience_id'), 'is not', null)
      .execute();
    await db.schema.createIndex('deliveries_execution_position').unique().on('deliveries').columns(['execution_id', 'position']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('deliveries_execution_position').execute();
    await db.schema.dropIndex('executions_audience').execute();
    await db.schema.dropIndex('executions_schedule').execute();
    await db.schema.alterTable('deliveries').dropColumn('not_before').execute();
    for (const column of [
      'schedule_cancelled_at',
      'execute_at',
      'schedule_id',
      'run_started_at',
      'targeted_count',
      'throttle_per_second',
      'audience_id',
      'kind',
    ]) {
      await db.schema.alterTable('executions').dropColumn(column).execute();
    }
  },
};
