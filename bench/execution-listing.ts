// GET /v1/executions at scale: `count` executions (1,000,000 by default) written straight into
// Herald's database in bulk, then the first page and a deep page (page 200 through the cursor)
// of each filter combination that matters, timed through the real HTTP API. Run by
// `npm run bench -- executions-list` (bench/run.ts) on a fresh stack, SQLite or PostgreSQL
// (BENCH_DATABASE). The plans are EXPLAINed from the very query the API builds
// (src/repositories/execution-listing.ts), as the database sees it after the load.
import { CompiledQuery, type Insertable } from 'kysely';
import { encodeTime } from 'ulid';
import type { HeraldDb } from '../src/db/database';
import { dialectOf } from '../src/db/dialect';
import type { ExecutionTable } from '../src/db/schema';
import { executionListingQuery, type ExecutionListingFilter } from '../src/repositories/execution-listing';
import { summarize, type LatencySummary } from './stats';

const CAMPAIGNS = 20;
const PAGE = 50;
const DEEP_PAGE = 200;
const REPEATS = 30;
const WARM_UPS = 3;
const DAY = 86_400_000;
/** The seeded executions span this long, ending an hour ago. */
const SPAN_DAYS = 180;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface ListingMeasurement {
  label: string;
  /** Rows the filter matches (counted in the database after the load). */
  matches: number;
  first: LatencySummary;
  /** The page reached for the deep measurement (200, or the last one when there are fewer). */
  deepPage: number;
  deep: LatencySummary;
  /** The database's plan for the first page and the deep page, one line each. */
  planFirst: string;
  planDeep: string;
}

export interface ExecutionListingBenchResult {
  dialect: 'sqlite' | 'postgres';
  executions: number;
  seedSeconds: number;
  rows: ListingMeasurement[];
}

interface Combination {
  label: string;
  query: Record<string, string>;
  /** As the trigger key (it lists only what it started) instead of the open API's full access. */
  asTriggerKey?: boolean;
}

/** 16 characters of Crockford base32 from a counter: the "random" half of a ULID, unique per row. */
function counterPart(i: number): string {
  let out = '';
  let n = i;
  for (let k = 0; k < 16; k++) {
    out = CROCKFORD[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

async function call(
  port: number,
  path: string,
  key?: string,
  retried = false,
): Promise<{ ms: number; body: { items: { executionId: string }[]; nextCursor?: string } }> {
  try {
    return await callOnce(port, path, key);
  } catch (error) {
    // A keep-alive connection the API closed while the bench sat in the database (the load, a
    // count): fetch reports it on reuse. Once more on a fresh one; that call is the one timed.
    if (retried || !(error instanceof TypeError)) throw error;
    return call(port, path, key, true);
  }
}

async function callOnce(port: number, path: string, key?: string): Promise<{ ms: number; body: { items: { executionId: string }[]; nextCursor?: string } }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    ...(key && { headers: { authorization: `Bearer ${key}` } }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text}`);
  return { ms, body: JSON.parse(text) };
}

async function post<T>(port: number, path: string, body: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * The load: ascending creation times over SPAN_DAYS, ids ULIDs of those times. 20 campaigns in
 * turn; 2% failed, 50 running in all (every one in campaign 7, spread over the whole span: the
 * rare status); one in 1,000 an audience execution; 1% started by the bench's trigger key.
 */
async function seed(db: HeraldDb, count: number, campaignIds: string[], triggerKeyId: string, prefix: string, log: (line: string) => void): Promise<number> {
  const started = Date.now();
  const end = Date.now() - 3_600_000;
  const step = (SPAN_DAYS * DAY) / count;
  const start = end - SPAN_DAYS * DAY;
  const batch = 1000;
  const perTransaction = 10;
  for (let from = 0; from < count; from += batch * perTransaction) {
    await db.transaction().execute(async (trx) => {
      for (let offset = from; offset < Math.min(count, from + batch * perTransaction); offset += batch) {
        const rows: Insertable<ExecutionTable>[] = [];
        for (let i = offset; i < Math.min(count, offset + batch); i++) {
          const time = Math.floor(start + i * step);
          const createdAt = new Date(time).toISOString();
          const status = i % 20_000 === 7 ? 'running' : i % 50 === 3 ? 'failed' : 'completed';
          const audience = i % 1000 === 999;
          const campaignId = campaignIds[i % CAMPAIGNS]!;
          rows.push({
            id: encodeTime(time, 10) + counterPart(i),
            request_id: `${prefix}-${i}`,
            request_hash: 'bench',
            campaign_id: campaignId,
            campaign_version: 1,
            workflow_id: `execution/${campaignId}/${prefix}-${i}`,
            status,
            failure_reason: status === 'failed' ? 'workflow-terminated' : null,
            created_at: createdAt,
            completed_at: status === 'running' ? null : createdAt,
            workflow_checked_at: null,
            context: null,
            started_by_key_id: i % 100 === 1 ? triggerKeyId : i % 100 === 2 ? 'bench-other-key' : null,
            sent_count: status === 'completed' ? 1 : 0,
            failed_count: status === 'failed' ? 1 : 0,
            excluded_count: 0,
            details_purged_at: null,
            kind: audience ? 'audience' : 'unitary',
            audience_id: audience ? 'bench-audience' : null,
            throttle_per_second: null,
            targeted_count: audience ? 1 : null,
            run_started_at: null,
            schedule_id: null,
            execute_at: null,
            schedule_cancelled_at: null,
          });
        }
        await trx.insertInto('executions').values(rows).execute();
      }
    });
    const done = Math.min(count, from + batch * perTransaction);
    if (done % 200_000 === 0 || done === count) log(`  ${done.toLocaleString('en')} executions written (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  // What autovacuum's analyze does on its own after a load this size; SQLite has no statistics
  // unless someone runs ANALYZE, and Herald does not, so it is measured without.
  if (dialectOf(db) === 'postgres') await db.executeQuery(CompiledQuery.raw('analyze executions'));
  return (Date.now() - started) / 1000;
}

/** The service's filter for a combination: dates as stored, a trigger key narrowed to what it started. */
function filterOf(combination: Combination, triggerKeyId: string): ExecutionListingFilter {
  const q = combination.query;
  return {
    ...(q.campaignId && { campaignId: q.campaignId }),
    ...(q.status && { status: q.status as ExecutionListingFilter['status'] }),
    ...(q.requestId && { requestId: q.requestId }),
    ...(q.kind && { kind: q.kind as ExecutionListingFilter['kind'] }),
    ...(q.createdAfter && { createdAfter: new Date(q.createdAfter).toISOString() }),
    ...(q.createdBefore && { createdBefore: new Date(q.createdBefore).toISOString() }),
    ...(combination.asTriggerKey && { startedByKeyId: triggerKeyId }),
  };
}

/** The plan of the API's own query, as one line. */
async function plan(db: HeraldDb, filter: ExecutionListingFilter, after?: { createdAt: string; executionId: string }): Promise<string> {
  const compiled = executionListingQuery(db, filter, PAGE + 1, after).compile();
  if (dialectOf(db) === 'postgres') {
    const result = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
    return result.rows
      .map((row) =>
        row['QUERY PLAN']
          .trim()
          .replace(/^->\s*/, '')
          .replace(/\s*\(cost=[^)]*\)/, ''),
      )
      .join(' / ');
  }
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return result.rows.map((row) => row.detail).join(' / ');
}

async function countMatches(db: HeraldDb, filter: ExecutionListingFilter): Promise<number> {
  const compiled = executionListingQuery(db, filter, 2_000_000_000)
    .clearSelect()
    .clearOrderBy()
    .clearLimit()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .compile();
  const result = await db.executeQuery<{ n: number | string }>(compiled);
  return Number(result.rows[0]?.n ?? 0);
}

export async function benchExecutionListing(options: {
  port: number;
  db: HeraldDb;
  count: number;
  prefix: string;
  log: (line: string) => void;
}): Promise<ExecutionListingBenchResult> {
  const { port, db, count, prefix, log } = options;
  const campaignIds: string[] = [];
  for (let i = 0; i < CAMPAIGNS; i++) {
    const created = await post<{ id: string }>(port, '/v1/campaigns', {
      name: `${prefix} listing ${i}`,
      type: 'transactional',
      channel: 'email',
      content: { subject: 'Hello', html: '<p>Hi</p>' },
      audience: { namespace: 'email', createMissingProfiles: true },
    });
    campaignIds.push(created.id);
  }
  const triggerKey = await post<{ id: string; key: string }>(port, '/v1/api-keys', { name: `${prefix} listing trigger key`, scope: 'trigger' });
  log(`writing ${count.toLocaleString('en')} executions straight into the database ...`);
  const seedSeconds = await seed(db, count, campaignIds, triggerKey.id, prefix, log);

  const now = Date.now();
  const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
  const combinations: Combination[] = [
    { label: 'no filter', query: {} },
    { label: 'campaignId', query: { campaignId: campaignIds[5]! } },
    { label: 'status=failed (2%)', query: { status: 'failed' } },
    { label: `status=running (50 of ${count.toLocaleString('en')})`, query: { status: 'running' } },
    { label: 'campaignId + status=failed', query: { campaignId: campaignIds[3]!, status: 'failed' } },
    { label: 'campaignId + status=running (50, spread over the span)', query: { campaignId: campaignIds[7]!, status: 'running' } },
    { label: 'campaignId + status=running (none)', query: { campaignId: campaignIds[8]!, status: 'running' } },
    { label: 'requestId', query: { requestId: `${prefix}-${Math.floor(count / 2)}` } },
    { label: 'createdAfter (last 7 days)', query: { createdAfter: iso(7 * DAY) } },
    { label: 'createdAfter + createdBefore (30 days, 90 days ago)', query: { createdAfter: iso(120 * DAY), createdBefore: iso(90 * DAY) } },
    { label: 'campaignId + createdBefore (older than 60 days)', query: { campaignId: campaignIds[5]!, createdBefore: iso(60 * DAY) } },
    { label: 'kind=audience (0.1%)', query: { kind: 'audience' } },
    { label: 'trigger key (its own, 1%)', query: {}, asTriggerKey: true },
    { label: 'trigger key + status=running (none of its own)', query: { status: 'running' }, asTriggerKey: true },
  ];

  const rows: ListingMeasurement[] = [];
  for (const combination of combinations) {
    const key = combination.asTriggerKey ? triggerKey.key : undefined;
    const path = (cursor?: string) => `/v1/executions?${new URLSearchParams({ ...combination.query, limit: String(PAGE), ...(cursor && { cursor }) })}`;
    const time = async (target: string) => {
      for (let i = 0; i < WARM_UPS; i++) await call(port, target, key);
      const latencies: number[] = [];
      for (let i = 0; i < REPEATS; i++) latencies.push((await call(port, target, key)).ms);
      return summarize(latencies);
    };
    const first = await time(path());
    // Walk to the deep page once (untimed), keeping the cursor that asks for it.
    let cursor: string | undefined;
    let page = 1;
    let lastSeen: { createdAt: string; executionId: string } | undefined;
    let next = (await call(port, path(), key)).body;
    while (page < DEEP_PAGE && next.nextCursor) {
      cursor = next.nextCursor;
      next = (await call(port, path(cursor), key)).body;
      page++;
    }
    if (cursor) {
      // The cursor's layout (src/services/execution-listing.ts), read here only to EXPLAIN the deep page's query.
      const [, createdAt, executionId] = Buffer.from(cursor, 'base64url').toString('utf8').split(' ');
      lastSeen = { createdAt: createdAt!, executionId: executionId! };
    }
    const deep = await time(path(cursor));
    const filter = filterOf(combination, triggerKey.id);
    const row: ListingMeasurement = {
      label: combination.label,
      matches: await countMatches(db, filter),
      first,
      deepPage: page,
      deep,
      planFirst: await plan(db, filter),
      planDeep: lastSeen ? await plan(db, filter, lastSeen) : '(one page only)',
    };
    rows.push(row);
    log(
      `  ${row.label}: first page p50 ${row.first.p50.toFixed(1)} ms p95 ${row.first.p95.toFixed(1)} ms; page ${row.deepPage} p50 ${row.deep.p50.toFixed(1)} ms p95 ${row.deep.p95.toFixed(1)} ms`,
    );
  }
  return { dialect: dialectOf(db), executions: count, seedSeconds, rows };
}
