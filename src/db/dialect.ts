import { PostgresAdapter, sql, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';

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
 * | typed tests on queryable JSON | `json_type`/`json_extract`, `json_each` | `#>`, `jsonb_typeof`, jsonb comparisons: `queryableJson` |
 * | a commit synced to disk      | `synchronous = FULL` for it: `durableTransaction` | every commit                   |
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
  return dialectOf(db) === 'postgres'
    ? sql<string>`${sql.ref(existing)} || ${sql.ref(incoming)}`
    : sql<string>`json_patch(${sql.ref(existing)}, ${sql.ref(incoming)})`;
}

/** `column` (a queryable JSON object) with the keys of `value` on top, in one UPDATE's `set`; same rules as mergeJsonObjects. */
export function mergeJsonValue(db: Kysely<any>, column: string, value: Record<string, string | number | boolean>): RawBuilder<string> {
  const incoming = JSON.stringify(value);
  return dialectOf(db) === 'postgres'
    ? sql<string>`${sql.ref(column)} || cast(${incoming} as jsonb)`
    : sql<string>`json_patch(${sql.ref(column)}, ${incoming})`;
}

/** A JSON scalar a queryable JSON value is compared with. */
export type JsonScalar = string | number | boolean;

/**
 * Typed tests on the value at a path of object keys in a queryable JSON column (profile
 * attributes, consents), as the audience rules need them. Each answers true or false, never
 * NULL (a missing path is false), so that NOT of a test is its exact opposite. Values compare
 * only with values of their own JSON type: 30 never equals "30", and a boolean never equals 1
 * (SQLite's json_extract turns true into 1, so SQLite tests json_type first). Strings compare
 * by code point in both (SQLite's BINARY collation; `collate "C"` on PostgreSQL, whose default
 * collation may follow the locale). Paths and values are always bound parameters.
 */
export interface QueryableJsonTests {
  /** Present and not JSON null. */
  exists(path: string[]): RawBuilder<SqlBool>;
  /** Of the value's type and equal to it. */
  equals(path: string[], value: JsonScalar): RawBuilder<SqlBool>;
  /** Equal to one of the values (each compared within its own type). */
  oneOf(path: string[], values: JsonScalar[]): RawBuilder<SqlBool>;
  /** A number compared with a number, or a string with a string; any other type is false. */
  compare(path: string[], op: '>' | '>=' | '<' | '<=', value: string | number): RawBuilder<SqlBool>;
  /** A string holding `value` (a string) as a substring, or an array with an element equal to `value`. */
  contains(path: string[], value: JsonScalar): RawBuilder<SqlBool>;
}

export function queryableJson(db: Kysely<any>, column: string): QueryableJsonTests {
  return dialectOf(db) === 'postgres' ? postgresJsonTests(column) : sqliteJsonTests(column);
}

const definitely = (test: RawBuilder<unknown>) => sql<SqlBool>`coalesce(${test}, false)`;
const COMPARISONS = { '>': sql`>`, '>=': sql`>=`, '<': sql`<`, '<=': sql`<=` } as const;

function sqliteJsonTests(column: string): QueryableJsonTests {
  const col = sql.ref(column);
  // Keys are quoted: `$."first-name"`. attributePath (src/domain/audience-rule.ts) admits no quote or dot in a key.
  const jsonPath = (path: string[]) => '$' + path.map((key) => `."${key}"`).join('');
  const type = (path: string[]) => sql`json_type(${col}, ${jsonPath(path)})`;
  const value = (path: string[]) => sql`json_extract(${col}, ${jsonPath(path)})`;
  /** The json_type names of a JS scalar's JSON type; booleans by value, since their type is their value. */
  const typeTest = (path: string[], scalar: JsonScalar) =>
    typeof scalar === 'string'
      ? sql`${type(path)} = 'text'`
      : typeof scalar === 'number'
        ? sql`${type(path)} in ('integer', 'real')`
        : sql`${type(path)} = ${scalar ? 'true' : 'false'}`;
  const equals = (path: string[], scalar: JsonScalar) =>
    typeof scalar === 'boolean' ? typeTest(path, scalar) : sql`(${typeTest(path, scalar)} and ${value(path)} = ${scalar})`;
  return {
    exists: (path) => sql<SqlBool>`(coalesce(${type(path)}, 'null') <> 'null')`,
    equals: (path, scalar) => definitely(equals(path, scalar)),
    oneOf(path, values) {
      const strings = values.filter((v) => typeof v === 'string');
      const numbers = values.filter((v) => typeof v === 'number');
      const booleans = [...new Set(values.filter((v) => typeof v === 'boolean'))].map((v) => (v ? 'true' : 'false'));
      const tests = [
        ...(strings.length > 0 ? [sql`(${type(path)} = 'text' and ${value(path)} in (select value from json_each(${JSON.stringify(strings)})))`] : []),
        ...(numbers.length > 0
          ? [sql`(${type(path)} in ('integer', 'real') and ${value(path)} in (select value from json_each(${JSON.stringify(numbers)})))`]
          : []),
        ...(booleans.length > 0 ? [sql`${type(path)} in (select value from json_each(${JSON.stringify(booleans)}))`] : []),
      ];
      return definitely(sql`(${sql.join(tests, sql` or `)})`);
    },
    compare: (path, op, scalar) => definitely(sql`(${typeTest(path, scalar)} and ${value(path)} ${COMPARISONS[op]} ${scalar})`),
    contains(path, scalar) {
      const elementType =
        typeof scalar === 'string'
          ? sql`e.type = 'text'`
          : typeof scalar === 'number'
            ? sql`e.type in ('integer', 'real')`
            : sql`e.type = ${scalar ? 'true' : 'false'}`;
      const element = typeof scalar === 'boolean' ? elementType : sql`${elementType} and e.value = ${scalar}`;
      const inArray = sql`(${type(path)} = 'array' and exists (select 1 from json_each(${col}, ${jsonPath(path)}) as e where ${element}))`;
      return definitely(typeof scalar === 'string' ? sql`((${type(path)} = 'text' and instr(${value(path)}, ${scalar}) > 0) or ${inArray})` : inArray);
    },
  };
}

function postgresJsonTests(column: string): QueryableJsonTests {
  const col = sql.ref(column);
  // `pg` sends a JS array as a text[] literal; jsonb values go as JSON text, so jsonb compares them typed.
  const at = (path: string[]) => sql`(${col} #> cast(${path} as text[]))`;
  const textAt = (path: string[]) => sql`(${col} #>> cast(${path} as text[]))`;
  const jsonb = (value: unknown) => sql`cast(${JSON.stringify(value)} as jsonb)`;
  /** `{"a": {"b": value}}`: containment, which the GIN index on attributes serves. */
  const nested = (path: string[], value: unknown): unknown => path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
  return {
    exists: (path) => sql<SqlBool>`(coalesce(jsonb_typeof(${at(path)}), 'null') <> 'null')`,
    // For a scalar, containment is equality: `{"k": ["x"]} @> {"k": "x"}` is false (arrays contain scalars only at the top level).
    equals: (path, scalar) => definitely(sql`(${col} @> ${jsonb(nested(path, scalar))})`),
    oneOf: (path, values) => definitely(sql`(${at(path)} in (select jsonb_array_elements(${jsonb(values)})))`),
    compare: (path, op, scalar) =>
      definitely(
        typeof scalar === 'number'
          ? sql`(jsonb_typeof(${at(path)}) = 'number' and ${at(path)} ${COMPARISONS[op]} ${jsonb(scalar)})`
          : sql`(jsonb_typeof(${at(path)}) = 'string' and ${textAt(path)} collate "C" ${COMPARISONS[op]} cast(${scalar} as text) collate "C")`,
      ),
    contains(path, scalar) {
      const inArray = sql`(jsonb_typeof(${at(path)}) = 'array' and ${at(path)} @> ${jsonb([scalar])})`;
      return definitely(
        typeof scalar === 'string'
          ? sql`((jsonb_typeof(${at(path)}) = 'string' and strpos(${textAt(path)}, cast(${scalar} as text)) > 0) or ${inArray})`
          : inArray,
      );
    },
  };
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

/**
 * Rows given as a table with named columns, to join or `update … from`: PostgreSQL names the
 * columns of a VALUES list in its alias, SQLite calls them column1, column2, … Every value is a
 * bound parameter, typed as text by `pg`: cast in the join where a column is not text.
 */
export function valuesTable(db: Kysely<any>, alias: string, columns: string[], rows: unknown[][]): RawBuilder<unknown> {
  const values = sql.join(rows.map((row) => sql`(${sql.join(row)})`));
  if (dialectOf(db) === 'postgres') return sql`(values ${values}) as ${sql.ref(alias)}(${sql.join(columns.map((c) => sql.ref(c)))})`;
  const named = sql.join(columns.map((c, i) => sql`${sql.ref(`column${i + 1}`)} as ${sql.ref(c)}`));
  return sql`(select ${named} from (values ${values})) as ${sql.ref(alias)}`;
}

/**
 * A condition that picks the rows `subquery` (selecting the physical row identity as `row_identity`) picked:
 * rowid on SQLite, ctid on PostgreSQL (through an array, which PostgreSQL answers with a TID scan).
 * For claiming a bounded number of rows in one UPDATE … RETURNING on tables without a primary key.
 */
export function rowIdentity(db: Kysely<any>): RawBuilder<unknown> {
  return dialectOf(db) === 'postgres' ? sql`ctid` : sql`rowid`;
}
export function rowIdentityIn(db: Kysely<any>, subquery: RawBuilder<unknown>): RawBuilder<SqlBool> {
  return dialectOf(db) === 'postgres' ? sql<SqlBool>`ctid = any(array(${subquery}))` : sql<SqlBool>`rowid in (${subquery})`;
}

/**
 * For the rest of the transaction, index scans over sequential and bitmap scans (PostgreSQL; SQLite
 * needs nothing). PostgreSQL cannot estimate a partial index's predicate such as `a is distinct
 * from b` (it guesses most rows match) and would scan the whole table to find the few that do;
 * plain index scans also mark the dead entries an update leaves behind, so later scans skip them.
 */
export async function preferIndexScans(trx: Kysely<any>): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  await sql`set local enable_seqscan = off`.execute(trx);
  await sql`set local enable_bitmapscan = off`.execute(trx);
}

/**
 * Runs `work` in a transaction whose commit is on disk before it resolves. PostgreSQL's commits
 * are (synchronous_commit is on by default). SQLite runs WAL with `synchronous = NORMAL`
 * (database.ts), whose commits survive a crash of the process but not of the machine; this one
 * transaction runs with `synchronous = FULL`, which syncs the WAL at its commit, and the
 * connection goes back to NORMAL after it. Callers group many writes into one such transaction
 * (a group commit): the sync is the cost, paid once for the group.
 */
export async function durableTransaction<DB, T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  if (dialectOf(db) === 'postgres') return db.transaction().execute(work);
  // One connection for the pragma, the transaction and the reset: SQLite's only connection, held throughout.
  return db.connection().execute(async (connection) => {
    await sql`pragma synchronous = FULL`.execute(connection);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await sql`pragma synchronous = NORMAL`.execute(connection);
    }
  });
}
