import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { openDatabase, type HeraldDb } from '../../../src/db/database';
import { createTestDatabase } from '../../support/postgres-server';

/**
 * An empty, unmigrated database of the suite's dialect, for migration tests that write data in
 * the form of an older migration first: a fresh PostgreSQL database on the PostgreSQL suite, else
 * a new SQLite file. Each cleanup goes on `cleanups`, to run after the test.
 */
export async function freshDatabase(cleanups: Array<() => Promise<void>>, label: string): Promise<HeraldDb> {
  const adminUrl = inject('postgresAdminUrl');
  if (adminUrl) {
    const database = await createTestDatabase(adminUrl);
    const db = openDatabase({ dialect: 'postgres', url: database.url });
    cleanups.push(
      () => database.drop(),
      () => db.destroy(),
    );
    return db;
  }
  const dir = mkdtempSync(join(tmpdir(), `herald-${label}-`));
  const db = openDatabase(join(dir, 'herald.db'));
  cleanups.push(
    async () => rmSync(dir, { recursive: true, force: true }),
    () => db.destroy(),
  );
  return db;
}
