import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leaseChunk } from '../../src/api/middlewares/call-lease';
import { CallRateLimiter } from '../../src/api/middlewares/rate-limit';
import { SharedCallLimiter } from '../../src/api/middlewares/shared-call-limiter';
import { SharedCounterTable } from '../../src/api/middlewares/shared-counter-table';
import { migrateToLatest, openDatabase, type HeraldDb } from '../../src/db/database';
import { freePort } from '../support/free-port';
import { createTestDatabase, startPostgresServer, type PostgresServer } from '../support/postgres-server';

/**
 * SharedCallLimiter leases rate-limit points from PostgreSQL a chunk at a time: replicas on one
 * database still allow at most N calls per window between them, with about one statement per
 * chunk instead of one per call. The class directly, on a real PostgreSQL; on the SQLite suite
 * this file starts a server of its own. Windows are one second and start with a caller's first
 * call, so each test takes a caller of its own instead of waiting for a fresh window.
 */
describe('shared call limits leased in chunks', () => {
  let ownServer: PostgresServer | undefined;
  let db: HeraldDb;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    let adminUrl = inject('postgresAdminUrl');
    if (!adminUrl) {
      ownServer = await startPostgresServer();
      adminUrl = ownServer.adminUrl;
    }
    const database = await createTestDatabase(adminUrl);
    drop = database.drop;
    db = openDatabase({ dialect: 'postgres', url: database.url });
    await migrateToLatest(db);
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await drop?.();
    await ownServer?.teardown();
  }, 60_000);

  /** One API replica's limiter on the shared database, and the statements it has sent there. */
  function replica(maxLeases?: number): { calls: SharedCallLimiter; table: SharedCounterTable; statements: () => number } {
    let statements = 0;
    const counted: Kysely<any> = db.withPlugin({
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => {
        statements++;
        return result;
      },
    });
    const table = new SharedCounterTable(counted);
    return { calls: new SharedCallLimiter(table, new CallRateLimiter(), maxLeases), table, statements: () => statements };
  }

  async function countedPoints(caller: string): Promise<number> {
    const { rows } = await sql<{ points: number }>`select points from rate_limit_counters where key = ${`calls:${caller}`}`.execute(db);
    return rows[0]!.points;
  }

  /** How many one-second windows a run that started at `startedAt` can have touched: a loaded machine may stretch it past one. */
  const windowsSince = (startedAt: number) => Math.floor((Date.now() - startedAt) / 1000) + 1;

  it('takes a twentieth of the rate at once, between 1 (small rates stay exact) and 100', () => {
    expect([1, 10, 39, 40, 200, 500, 1_000, 2_000, 1_000_000].map(leaseChunk)).toEqual([1, 1, 1, 2, 10, 25, 50, 100, 100]);
  });

  it('lets two replicas allow at most the rate between them, with one statement per chunk', async () => {
    const [a, b] = [replica(), replica()];
    const caller = 'key:two-replicas';
    const startedAt = Date.now();
    const allowed: boolean[][] = [[], []];
    for (let i = 0; i < 400; i++) allowed[i % 2]!.push((await [a, b][i % 2]!.calls.take(caller, 200)).allowed);
    const windows = windowsSince(startedAt);
    const [allowedA, allowedB] = allowed.map((answers) => answers.filter(Boolean).length) as [number, number];
    console.info(
      `[shared-call-limiter-leases] 400 calls over 2 replicas at 200/s: ${allowedA + allowedB} allowed (A ${allowedA}, B ${allowedB}) in ${a.statements() + b.statements()} statements`,
    );

    // Every point is counted in the row before it is spent: never more than 200 a window. Held and
    // unspent leases may turn away at most 2 replicas × 10; here both keep calling, so each spends
    // what it leased and the window gives exactly 200 (100 each).
    expect(allowedA + allowedB).toBeLessThanOrEqual(200 * windows);
    expect(allowedA + allowedB).toBeGreaterThanOrEqual(200 - 2 * leaseChunk(200));
    expect(allowedA).toBeGreaterThan(0);
    expect(allowedB).toBeGreaterThan(0);
    // 20 leases of 10, then at most one refused lease per replica (none for a replica whose last
    // lease saw the row reach 200): a spent window is refused in process. Counting every call
    // would have taken 400 statements.
    expect(a.statements() + b.statements()).toBeLessThanOrEqual(windows * (200 / 10 + 2));
    if (windows === 1) {
      expect(await countedPoints(caller)).toBeGreaterThanOrEqual(200);
      expect(await countedPoints(caller)).toBeLessThanOrEqual(200 + 2 * 10);
    }
  });

  it('lets concurrent calls in one process share one lease in flight', async () => {
    const { calls, statements } = replica();
    const caller = 'key:concurrent';
    const startedAt = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => calls.take(caller, 1_000)));
    const windows = windowsSince(startedAt);

    expect(answers.every((a) => a.allowed)).toBe(true);
    // 200 calls, 50-point chunks: four leases one after another, not one per call.
    expect(statements()).toBeLessThanOrEqual(windows * 4);
    if (windows === 1) expect(await countedPoints(caller)).toBe(200);
    // ratelimit-remaining counts the shared row at the lease plus this replica's unspent points:
    // with one replica calling, that is exact, 999 down to 800.
    const remaining = answers.map((a) => Number(a.headers['ratelimit-remaining'])).sort((x, y) => y - x);
    if (windows === 1) expect(remaining).toEqual(Array.from({ length: 200 }, (_, i) => 999 - i));
  });

  it('grants the last points of a window exactly when a chunk no longer fits', async () => {
    const [a, b] = [replica(), replica()];
    const caller = 'key:near-the-limit';
    const startedAt = Date.now();
    // Other replicas have counted 195 of this window's 200.
    await a.table.limiter('calls', 200, 1).consume(caller, 195);
    const before = a.statements();

    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await a.calls.take(caller, 200));
    const otherReplica = await b.calls.take(caller, 200);
    if (windowsSince(startedAt) > 1) return; // a stall past the window: nothing left to check exactly

    // The refused chunk of 10 still had 5 under the rate: this replica spends those, then refuses.
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(answers.slice(0, 5).map((a) => a.headers['ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0']);
    expect(answers[9]!.headers['ratelimit-remaining']).toBe('0');
    expect(answers[9]!.retryAfterSeconds).toBe(1);
    // One statement for all ten: the spent window is refused in process.
    expect(a.statements() - before).toBe(1);
    // The row is over the rate, so no other replica gets a point of this window.
    expect(otherReplica.allowed).toBe(false);
    expect(await countedPoints(caller)).toBe(195 + 10 + 10);
  });

  it('holds leases for a bounded number of callers', async () => {
    const { calls } = replica(2);
    for (const caller of ['key:one', 'key:two', 'key:three']) expect((await calls.take(caller, 500)).allowed).toBe(true);
    expect(calls.leasedCallers).toBe(2);
  });

  it('falls back to the in-process limiter for every call waiting on a lease PostgreSQL does not answer', async () => {
    const unreachable = openDatabase({ dialect: 'postgres', url: `postgres://herald@127.0.0.1:${await freePort()}/nowhere` });
    try {
      const inProcess = new CallRateLimiter(100);
      const calls = new SharedCallLimiter(new SharedCounterTable(unreachable), inProcess);
      const answers = await Promise.all(Array.from({ length: 4 }, () => calls.take('key:k', 2)));
      expect(answers.filter((a) => a.allowed)).toHaveLength(2);
      expect(inProcess.callers()).toEqual(['key:k']);
      expect(calls.leasedCallers).toBe(0);
    } finally {
      await unreachable.destroy();
    }
  });
});
