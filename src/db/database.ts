import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import { dialectOf } from './dialect';
import { migrationProvider } from './migrations/index';
import { withStatementCache } from './statement-cache';
import type { Database } from './schema';

export type HeraldDb = Kysely<Database>;

/** Where Herald's data lives: an SQLite file (the embedded default) or a PostgreSQL server (`DATABASE_URL`). */
export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/** A bare string is an SQLite path, as before PostgreSQL. */
const targetOf = (target: DatabaseTarget | string): DatabaseTarget => (typeof target === 'string' ? { dialect: 'sqlite', path: target } : target);

function sqliteDialect(databasePath: string): Dialect {
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
      // Deleted and overwritten content is zeroed, not left in free space: after an erasure
      // (DELETE /v1/profiles/…) the person's data is not in the file, only the new page images.
      // Per connection, so every process that opens the file sets it.
      sqlite.pragma('secure_delete = ON');
      // A page cache of up to 32 MiB per connection (SQLite's default is 2 MiB): the indexes that
      // every trigger's insert touches stay in memory instead of being read back through the
      // OS. The high-throughput accept path went from 1,771–1,977 to 2,125–2,192 calls/s with it
      // (BENCHMARKS.md, issue 23); memory-mapping the file on top added nothing.
      sqlite.pragma('cache_size = -32768');
      return withStatementCache(sqlite);
    },
  });
}

function postgresDialect(url: string): Dialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // A pool that cannot get a connection in time fails the request (503 with Retry-After) instead of queueing it forever.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server closes (a restart, 57P01) is an 'error' event on the pool;
  // unheard it would crash the process. The pool drops that client and connects anew on demand.
  pool.on('error', () => {});
  // A connection checked out of the pool has no pool listener: pg-pool removes it while the
  // client is lent. When the server ends it between two queries of a transaction (a restart
  // while an activity holds it), pg emits 'error' on the client itself, and unheard that
  // crashed the worker. Heard, the client is marked unusable: the transaction's next query
  // fails (the activity retries), and the pool discards the client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new PostgresDialect({ pool });
}

/**
 * The one place that picks a SQL dialect. Everything else speaks kysely; what differs between
 * the two is listed in dialect.ts.
 */
function createDialect(target: DatabaseTarget): Dialect {
  return target.dialect === 'postgres' ? postgresDialect(target.url) : sqliteDialect(target.path);
}

/**
 * After an erasure, on SQLite: copies the WAL into the database file and truncates the WAL, so the
 * frames that still held the person's rows (the WAL keeps old page images until a checkpoint) are
 * gone; secure_delete has already zeroed the content in the new ones. A reader of another process
 * (the worker) can hold the checkpoint back for a moment: it is tried again a few times, and
 * whether it completed is answered. PostgreSQL has nothing comparable to run in-band: the old row
 * versions are dead tuples until (auto)VACUUM prunes them and later writes reuse the space, and
 * they stay in its WAL and backups for as long as those are kept (see docs/privacy.md).
 */
export async function checkpointAfterErasure(db: HeraldDb, attempts = 5): Promise<boolean> {
  if (dialectOf(db) === 'postgres') return false;
  for (let attempt = 1; ; attempt++) {
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db);
    if (rows[0]?.busy === 0) return true;
    if (attempt >= attempts) return false;
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
  }
}

export function openDatabase(target: DatabaseTarget | string): HeraldDb {
  return new Kysely<Database>({ dialect: createDialect(targetOf(target)) });
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

/** Any fixed number: every Herald process migrating the same PostgreSQL database takes this lock. */
const MIGRATION_LOCK_ID = 0x48_45_52_41_4c_44n; // "HERALD"

/**
 * On PostgreSQL, replicas that start together queue on a session advisory lock held on one
 * connection of the pool while the migrator works on others; the next one in finds nothing to do.
 */
async function migratePostgres(db: HeraldDb): Promise<void> {
  await db.connection().execute(async (lockConnection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(lockConnection);
    try {
      await migrateOnce(db);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(lockConnection);
    }
  });
}

export async function migrateToLatest(db: HeraldDb, attempts = 5): Promise<void> {
  if (dialectOf(db) === 'postgres') return migratePostgres(db);
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
export async function openMigratedDatabase(target: DatabaseTarget | string): Promise<HeraldDb> {
  const db = openDatabase(target);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
