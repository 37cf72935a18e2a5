import { CompiledQuery, type Kysely } from 'kysely';
import { RateLimiterPostgres } from 'rate-limiter-flexible';

/** Created by migration 0006-rate-limit-counters; every shared limiter counts in it, told apart by key prefix. */
export const RATE_LIMIT_COUNTERS_TABLE = 'rate_limit_counters';

/** What rate-limiter-flexible's storeType 'pool' calls: `query({ text, values })`, answered like `pg`. */
interface PoolLikeQueryClient {
  query(query: { text: string; values?: readonly unknown[] }): Promise<{ rows: unknown[]; rowCount: number }>;
}

/**
 * Runs the library's queries on Herald's own pool, through kysely, instead of a second pool: the
 * limiter then shares the pool's connection timeout (a store that does not answer fails fast)
 * and closes with the database. The library's statement names are dropped: `pg` would prepare
 * them per connection, and its three statements are cheap to parse.
 */
function kyselyQueryClient(db: Kysely<any>): PoolLikeQueryClient {
  return {
    async query({ text, values }) {
      const result = await db.executeQuery(CompiledQuery.raw(text, [...(values ?? [])]));
      // DELETE reports affected rows; SELECT and INSERT … RETURNING report the rows they return.
      const rowCount = result.numAffectedRows !== undefined && result.rows.length === 0 ? Number(result.numAffectedRows) : result.rows.length;
      return { rows: result.rows, rowCount };
    },
  };
}

/**
 * The PostgreSQL table of rate-limit counters shared by every API replica, as limiters on it.
 * Its state lives in the table, never in the process, so the process stays the same size
 * however many callers there are.
 */
export class SharedCounterTable {
  private readonly client: PoolLikeQueryClient;
  private sweeperCreated = false;

  constructor(db: Kysely<any>) {
    this.client = kyselyQueryClient(db);
  }

  /**
   * A fixed-window limiter: `points` per `durationSeconds` for each key under `keyPrefix`.
   * `tableCreated` because the migration made the table: the library never runs DDL. The first
   * limiter of the table also runs the library's sweep (every 5 minutes, rows that expired over
   * an hour ago); the sweep deletes rows of every prefix, so one per process keeps the table
   * bounded by the keys seen in about an hour.
   */
  limiter(keyPrefix: string, points: number, durationSeconds: number): RateLimiterPostgres {
    const sweeps = !this.sweeperCreated;
    this.sweeperCreated = true;
    return new RateLimiterPostgres({
      storeClient: this.client,
      storeType: 'pool',
      tableName: RATE_LIMIT_COUNTERS_TABLE,
      tableCreated: true,
      clearExpiredByTimeout: sweeps,
      keyPrefix,
      points,
      duration: durationSeconds,
    });
  }
}
