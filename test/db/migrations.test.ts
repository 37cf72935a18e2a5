import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { dialectOf } from '../../src/db/dialect';
import { createTestDatabase } from '../support/postgres-server';
import { migrateToLatest, openDatabase, type HeraldDb } from '../../src/db/database';

describe('migrations', () => {
  const opened: HeraldDb[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.destroy()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function migrateConcurrently(attempts: number): Promise<PromiseSettledResult<void>[]> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-migrate-'));
    dirs.push(dir);
    // Separate connections to one fresh file, as the API and the worker processes have.
    const dbs = Array.from({ length: 4 }, () => openDatabase(join(dir, 'herald.db')));
    opened.push(...dbs);
    return Promise.allSettled(dbs.map((db) => migrateToLatest(db, attempts)));
  }

  it('lets several processes migrate one fresh file at the same moment', async () => {
    for (let round = 0; round < 5; round++) {
      const results = await migrateConcurrently(5);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
  });

  it('really races without retries, so the test above can fail', async () => {
    let lost = 0;
    for (let round = 0; round < 5; round++) lost += (await migrateConcurrently(1)).filter((r) => r.status === 'rejected').length;
    expect(lost).toBeGreaterThan(0);
  });
});

describe.skipIf(!inject('postgresAdminUrl'))('migrations on PostgreSQL', () => {
  it('lets several processes migrate one fresh database at once: they queue on the advisory lock, none fails, none retries', async () => {
    for (let round = 0; round < 3; round++) {
      const database = await createTestDatabase(inject('postgresAdminUrl'));
      const dbs = Array.from({ length: 4 }, () => openDatabase({ dialect: 'postgres', url: database.url }));
      try {
        const results = await Promise.allSettled(dbs.map((db) => migrateToLatest(db, 1)));
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      } finally {
        await Promise.all(dbs.map((db) => db.destroy()));
        await database.drop();
      }
    }
  });

  it('stores profile attributes and consents as jsonb, with a GIN index on attributes', async () => {
    const database = await createTestDatabase(inject('postgresAdminUrl'));
    const db = openDatabase({ dialect: 'postgres', url: database.url });
    try {
      await migrateToLatest(db);
      expect(dialectOf(db)).toBe('postgres');
      const { rows: columns } = await sql<{
        column_name: string;
        data_type: string;
      }>`select column_name, data_type from information_schema.columns where table_name = 'profiles' and column_name in ('attributes', 'consents') order by column_name`.execute(
        db,
      );
      expect(columns).toEqual([
        { column_name: 'attributes', data_type: 'jsonb' },
        { column_name: 'consents', data_type: 'jsonb' },
      ]);
      const { rows: indexes } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'profiles_attributes_gin'`.execute(db);
      expect(indexes[0]?.indexdef).toMatch(/USING gin \(attributes\)/);
      const now = new Date().toISOString();
      await db
        .insertInto('profiles')
        .values({
          namespace: 'email',
          user_id: 'ada',
          attributes: JSON.stringify({ plan: 'pro' }),
          consents: '{}',
          created_at: now,
          updated_at: now,
          created_by_execution: null,
        })
        .execute();
      const { rows } = await sql<{ user_id: string }>`select user_id from profiles where attributes @> '{"plan":"pro"}'`.execute(db);
      expect(rows).toEqual([{ user_id: 'ada' }]);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

describe.skipIf(Boolean(inject('postgresAdminUrl')))('profile attributes on SQLite', () => {
  it('are JSON text that json_extract reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-json-'));
    const db = openDatabase(join(dir, 'herald.db'));
    try {
      await migrateToLatest(db);
      const now = new Date().toISOString();
      await db
        .insertInto('profiles')
        .values({
          namespace: 'email',
          user_id: 'ada',
          attributes: JSON.stringify({ plan: 'pro' }),
          consents: '{}',
          created_at: now,
          updated_at: now,
          created_by_execution: null,
        })
        .execute();
      const { rows } = await sql<{ user_id: string }>`select user_id from profiles where json_extract(attributes, '$.plan') = 'pro'`.execute(db);
      expect(rows).toEqual([{ user_id: 'ada' }]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
