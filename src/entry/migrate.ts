// `npm run migrate`: applies the database migrations and exits, as a deploy step before the
// workers and APIs roll out. The worker and the API still migrate at startup (a no-op once this
// ran); on PostgreSQL, processes that migrate at once queue on an advisory lock (src/db/database.ts).
import { openMigratedDatabase } from '../db/database';
import { loadConfigOrExit } from './load-config-or-exit';
import { logger } from './logger';

const log = logger('migrate');
const config = loadConfigOrExit();
// Never print DATABASE_URL: it can hold a password.
const where = config.database.dialect === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `SQLite at ${config.database.path}`;
try {
  const db = await openMigratedDatabase(config.database);
  await db.destroy();
  log(`migrations applied: ${where} is up to date`);
} catch (error) {
  console.error(`[migrate] migrating ${where} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
