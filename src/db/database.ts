import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Dialect } from 'kysely';
import { migrationProvider } from './migrations/index';
import { withStatementCache } from './statement-cache';
import type { Database } from './schema';

export type HeraldDb = Kysely<Database>;

/**
 * The one place that picks a SQL dialect. Everything else speaks kysely, so PostgreSQL
 * (kysely's PostgresDialect over `pg`) slots in here without touching repositories.
 */
function createDialect(databasePath: string): Dialect {
  mkdirSync(dirname(databasePath), { recursive: true });
  return new SqliteDialect({
    database: async () => {
      const sqlite = new SQLite(databasePath);
      // WAL lets the API read while the worker writes; busy_timeout makes the two
      // processes wait for each other's write lock instead of failing with SQLITE_BUSY.
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('busy_timeout = 10000');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      return withStatementCache(sqlite);
    },
  });
}

export function openDatabase(databasePath: string): HeraldDb {
  return new Kysely<Database>({ dialect: createDialect(databasePath) });
}

async function migrateOnce(db: HeraldDb): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}

/**
 * The API and the worker both migrate at startup. On a fresh file they can race: both read
 * "nothing applied" and the loser's CREATE TABLE fails. Its transaction rolled back, so trying
 * again sees the winner's work and has nothing left to do.
 */
function lostMigrationRace(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return /already exists/.test(cause?.message ?? '') || (cause?.code ?? '').startsWith('SQLITE_BUSY');
}

export async function migrateToLatest(db: HeraldDb, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db);
    } catch (error) {
      if (attempt >= attempts || !lostMigrationRace(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
    }
  }
}

/** Opens the database and brings its schema up to date; every entry point starts here. */
export async function openMigratedDatabase(databasePath: string): Promise<HeraldDb> {
  const db = openDatabase(databasePath);
  await migrateToLatest(db);
  return db;
}
