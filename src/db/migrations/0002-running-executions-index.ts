import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The orphan sweep reads running executions oldest first every interval. A partial index keeps
 * that read proportional to the executions in flight, not to every execution ever recorded.
 */
export const runningExecutionsIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('executions_running_created').on('executions').columns(['created_at', 'id']).where(sql.ref('status'), '=', 'running').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('executions_running_created').execute();
  },
};
