import type { Kysely, Migration } from 'kysely';
import { autoIncrementIdType, dialectOf } from '../dialect';

export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('start_at', 'text')
      .addColumn('end_at', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('activated_at', 'text')
      .execute();
    await db.schema.createIndex('campaigns_status_created').on('campaigns').columns(['status', 'created_at', 'id']).execute();
    await db.schema.createIndex('campaigns_created').on('campaigns').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('campaign_versions')
      .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_versions_pk', ['campaign_id', 'version'])
      .execute();

    await db.schema
      .createTable('profiles')
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('consents', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('auto_created', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_by_execution', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('profiles_pk', ['namespace', 'user_id'])
      .execute();

    await db.schema
      .createTable('executions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull().unique())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
      .addColumn('campaign_version', 'integer', (c) => c.notNull())
      .addColumn('workflow_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('failure_reason', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('completed_at', 'text')
      .execute();

    await db.schema
      .createTable('deliveries')
      .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('profile_created', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('address', 'text')
      .addColumn('message_id', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('deliveries_pk', ['execution_id', 'user_id'])
      .execute();

    await db.schema
      .createTable('outbox')
      .addColumn('id', autoIncrementIdType(db), (c) => (dialectOf(db) === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('to', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('html', 'text')
      .addColumn('text', 'text')
      .addColumn('campaign_id', 'text', (c) => c.notNull())
      .addColumn('execution_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('outbox_campaign_to').on('outbox').columns(['campaign_id', 'to']).execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['outbox', 'deliveries', 'executions', 'profiles', 'campaign_versions', 'campaigns']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
