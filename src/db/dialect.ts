import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Everything that differs between Herald's two SQL dialects, in one place. Repositories speak
 * kysely and call these helpers; they never test the dialect themselves.
 *
 * | what                         | SQLite (embedded default)        | PostgreSQL (`DATABASE_URL`)                     |
 * |------------------------------|----------------------------------|-------------------------------------------------|
 * | JSON columns                 | TEXT, read with `json_extract`   | TEXT, except profile attributes/consents: jsonb |
 * | reading a JSON column        | a string to parse                | jsonb arrives parsed from `pg`: `readJson`      |
 * | auto-increment primary key   | `integer primary key autoincrement` | `serial primary key`: `autoIncrementIdType` |
 * | unique violation             | SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY | 23505                                       |
 * | transient errors (503)       | SQLITE_BUSY*, SQLITE_LOCKED*     | connection loss, 57P0x, 08xxx, 40001, 40P01, 53300, pool timeout |
 * | statement cache              | yes (statement-cache.ts)         | no (`pg` sends parameterised text)              |
 * | `count(*)`                   | number                           | bigint, as a string: always wrap in `Number()`  |
 * | `numUpdatedRows` etc.        | bigint                           | bigint (kysely converts `rowCount`)             |
 * | concurrent migrations        | retry the loser (database.ts)    | `pg_advisory_lock` (database.ts)                |
 * | merging JSON objects in SQL  | `json_patch(a, b)`               | `a || b` (jsonb): `mergeJsonObjects`            |
 * | API rate limits              | in process, per API process      | table `rate_limit_counters`, shared by replicas (api/middlewares/limiters-for-database.ts) |
 */
export type DialectName = 'sqlite' | 'postgres';

/** Which dialect a kysely instance speaks; migrations use it for the few DDL differences. */
export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Whether a connection string selects PostgreSQL. */
export const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Reads a JSON column: SQLite (and TEXT columns on PostgreSQL) return the JSON text, `pg` returns
 * jsonb already parsed. Writes always pass `JSON.stringify(value)`, which both accept.
 */
export function readJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * `existing` with the keys of `incoming` on top, computed by the database in one statement (an
 * upsert's `set`), so concurrent writers cannot lose each other's keys. For flat objects whose
 * values are never null (json_patch drops null members).
 */
export function mergeJsonObjects(db: Kysely<any>, existing: string, incoming: string): RawBuilder<string> {
  return dialectOf(db) === 'postgres' ? sql<string>`${sql.ref(existing)} || ${sql.ref(incoming)}` : sql<string>`json_patch(${sql.ref(existing)}, ${sql.ref(incoming)})`;
}

/** The column type of an auto-increment integer primary key (pair it with `autoIncrement()` only on SQLite). */
export function autoIncrementIdType(db: Kysely<any>): 'serial' | 'integer' {
  return dialectOf(db) === 'postgres' ? 'serial' : 'integer';
}

const UNIQUE_VIOLATION_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

/** A duplicate key on insert, in SQLite's or PostgreSQL's words. */
export function isUniqueViolationCode(code: unknown): boolean {
  return typeof code === 'string' && UNIQUE_VIOLATION_CODES.has(code);
}

/** PostgreSQL SQLSTATEs that go away by themselves: a restarting or overloaded server, a retryable conflict. */
const POSTGRES_TRANSIENT_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
]);
/** Node socket errors on the way to PostgreSQL. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/** `pg` reports a lost connection and a pool timeout with messages, not codes. */
const POSTGRES_TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /connection error and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  /Client was closed and is not queryable/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/**
 * PostgreSQL refuses text that SQLite stores: U+0000 in a text column (22021) or in jsonb, and
 * lone surrogates in jsonb (22P05). The API answers 400 for these, not 500; inputs that reach
 * queryable JSON are refused by the schema in both dialects (src/api/schemas/safe-text.ts).
 */
export function isUnstorableTextError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '22021' || code === '22P05';
}

/** A database failure that a retry a moment later can get past, in either dialect. */
export function isTransientDatabaseError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    // Every SQLite extended code counts: SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, SQLITE_LOCKED_SHAREDCACHE, ...
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
    if (POSTGRES_TRANSIENT_STATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code)) return true;
  }
  // AggregateError (a host with several addresses all refusing) and wrapped causes.
  const nested = (error as { errors?: unknown[] } | undefined)?.errors;
  if (Array.isArray(nested) && nested.length > 0 && nested.every(isTransientDatabaseError)) return true;
  return typeof message === 'string' && POSTGRES_TRANSIENT_MESSAGES.some((pattern) => pattern.test(message));
}
