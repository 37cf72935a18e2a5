import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
