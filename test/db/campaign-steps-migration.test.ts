import { Migrator, sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { migrationProvider } from '../../src/db/migrations/index';
import { freshDatabase as freshDatabaseFor } from './support/fresh-database';

/**
 * Migration 0023 on a database written before it (both dialects, per the suite): the deliveries'
 * primary key becomes (execution_id, position), which SQLite does by rebuilding the table. Every
 * row and index survives, and one recipient may then have several deliveries in one execution.
 */
describe('migration 0023-campaign-steps', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const freshDatabase = () => freshDatabaseFor(cleanups, 'steps-migration');

  it('keys deliveries by position, keeping every row and index', async () => {
    const db = await freshDatabase();
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo('0022-profile-ids-and-erasure')).error).toBeUndefined();
    const old = db as unknown as Kysely<any>;
    const at = '2026-01-01T00:00:00.000Z';
    await old
      .insertInto('campaigns')
      .values({
        id: 'c1',
        name: 'C',
        description: null,
        tags: '[]',
        type: 'transactional',
        channel: 'email',
        content: '{"subject":"s","html":"h"}',
        audience: '{"namespace":"email","createMissingProfiles":true}',
        start_at: null,
        end_at: null,
        status: 'live',
        version: 1,
        created_at: at,
        updated_at: at,
        activated_at: at,
      })
      .execute();
    await old
      .insertInto('executions')
      .values({
        id: 'e1',
        request_id: 'r1',
        request_hash: 'h',
        campaign_id: 'c1',
        campaign_version: 1,
        workflow_id: 'execution/c1/r1',
        status: 'completed',
        failure_reason: null,
        created_at: at,
        completed_at: at,
        workflow_checked_at: null,
        context: null,
        started_by_key_id: null,
        details_purged_at: null,
      })
      .execute();
    const delivery = (user_id: string, position: number) => ({
      execution_id: 'e1',
      user_id,
      position,
      namespace: 'email',
      channel: 'email',
      status: 'sent',
      reason: null,
      address: `${user_id}@example.com`,
      message_id: `m-${position}`,
      updated_at: at,
    });
    await old
      .insertInto('deliveries')
      .values([delivery('ada', 0), delivery('bob', 1)])
      .execute();

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = await db.selectFrom('deliveries').select(['user_id', 'position', 'message_id', 'step_id']).orderBy('position').execute();
    expect(rows).toEqual([
      { user_id: 'ada', position: 0, message_id: 'm-0', step_id: null },
      { user_id: 'bob', position: 1, message_id: 'm-1', step_id: null },
    ]);
    // A later send step's message for the same recipient: a second row for ada.
    await db
      .insertInto('deliveries')
      .values({ ...delivery('ada', 1000), channel: 'sms', status: 'pending', step_id: 'sms' } as never)
      .execute();
    await expect(
      db
        .insertInto('deliveries')
        .values(delivery('carl', 1) as never)
        .execute(),
    ).rejects.toThrow();
    expect(await db.selectFrom('deliveries').select('position').where('user_id', '=', 'ada').orderBy('position').execute()).toEqual([
      { position: 0 },
      { position: 1000 },
    ]);
    if (!inject('postgresAdminUrl')) {
      const indexes = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'deliveries' and sql is not null order by name`.execute(db);
      expect(indexes.rows.map((row) => row.name)).toEqual([
        'deliveries_execution_position',
        'deliveries_message_id',
        'deliveries_recipient_sent',
        'deliveries_report_unfolded',
      ]);
    }
  });
});
