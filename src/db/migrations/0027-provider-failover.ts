import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Provider failover and the circuit breaker (issue 22, docs/failover.md), both dialects, plain
 * columns only:
 *
 * - `channel_configurations.fallback`: a JSON array of configuration ids tried in order when this
 *   one cannot take a message now; `circuit_breaker`: `{failureThreshold, openSeconds}` as JSON,
 *   null for the defaults (5 failures, 30 s).
 * - `provider_circuits`: one row per configuration whose breaker has seen a failure, shared by
 *   every worker on the database. `state` is closed, open or half-open; `consecutive_failures`
 *   counts retryable failures since the last success; `open_until` is when an open circuit lets
 *   one trial send through; `trial_started_at` is when that trial was claimed (a worker that dies
 *   holding it frees it after a while).
 * - `deliveries.configuration_id`, `provider` and `failed_over`: which configuration finally sent
 *   a message, through which provider, and whether it was not the campaign's first choice.
 */
export const providerFailover: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('channel_configurations')
      .addColumn('fallback', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema.alterTable('channel_configurations').addColumn('circuit_breaker', 'text').execute();
    await db.schema
      .createTable('provider_circuits')
      .addColumn('configuration_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
      .addColumn('open_until', 'text')
      .addColumn('trial_started_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('deliveries').addColumn('configuration_id', 'varchar(64)').execute();
    await db.schema.alterTable('deliveries').addColumn('provider', 'varchar(32)').execute();
    await db.schema
      .alterTable('deliveries')
      .addColumn('failed_over', 'integer', (c) => c.notNull().defaultTo(sql`0`))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('deliveries').dropColumn('failed_over').execute();
    await db.schema.alterTable('deliveries').dropColumn('provider').execute();
    await db.schema.alterTable('deliveries').dropColumn('configuration_id').execute();
    await db.schema.dropTable('provider_circuits').execute();
    await db.schema.alterTable('channel_configurations').dropColumn('circuit_breaker').execute();
    await db.schema.alterTable('channel_configurations').dropColumn('fallback').execute();
  },
};
