import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { ExecutionRow } from '../db/schema';
import { executionStatusLine, type ExecutionCounts, type ExecutionStatus } from './executions';

/** What narrows GET /v1/executions. Dates are ISO 8601 in UTC (`toISOString`), as `created_at` is stored. */
export interface ExecutionListingFilter {
  campaignId?: string;
  status?: ExecutionStatus;
  requestId?: string;
  kind?: 'unitary' | 'audience';
  /** Inclusive. */
  createdAfter?: string;
  /** Exclusive. */
  createdBefore?: string;
  /** Only the executions this API key started (a trigger key's listing). */
  startedByKeyId?: string;
}

/** Where the previous page ended: its last execution, in listing order. */
export interface ExecutionListingPosition {
  createdAt: string;
  executionId: string;
}

/** One execution in a listing: its status line, never its recipients. */
export interface ExecutionSummary {
  executionId: string;
  requestId: string;
  campaignId: string;
  campaignVersion: number;
  kind: 'unitary' | 'audience';
  status: ExecutionStatus;
  reason?: string;
  createdAt: string;
  completedAt?: string;
  /** Absent for a running audience execution: counting its recipients is GET /v1/executions/{id}'s job. */
  counts?: ExecutionCounts;
  audienceId?: string;
}

type SummaryRow = Pick<
  ExecutionRow,
  | 'id'
  | 'request_id'
  | 'campaign_id'
  | 'campaign_version'
  | 'kind'
  | 'status'
  | 'failure_reason'
  | 'created_at'
  | 'completed_at'
  | 'sent_count'
  | 'failed_count'
  | 'excluded_count'
  | 'audience_id'
>;

const ZERO: ExecutionCounts = { sent: 0, failed: 0, excluded: 0, pending: 0 };

/**
 * Executions newest first (`created_at`, then `id`), a keyset page at a time. Every filter
 * combination has an index ending in (created_at, id) (migration 0021), so a page reads about
 * `limit` index entries wherever it starts; never OFFSET.
 */
export class ExecutionListingRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Up to `limit` executions after `after`; one more row than asked tells whether a next page exists. */
  async page(filter: ExecutionListingFilter, limit: number, after?: ExecutionListingPosition): Promise<{ items: ExecutionSummary[]; hasMore: boolean }> {
    const query = executionListingQuery(this.db, filter, limit + 1, after);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const live = await this.liveUnitaryCounts(page.filter((row) => row.status === 'running' && row.kind === 'unitary').map((row) => row.id));
    return { items: page.map((row) => summary(row, live.get(row.id))), hasMore: rows.length > limit };
  }

  /** Running unitary executions are counted as they stand: at most 20 deliveries each, one grouped query for the page. */
  private async liveUnitaryCounts(executionIds: string[]): Promise<Map<string, ExecutionCounts>> {
    const counts = new Map<string, ExecutionCounts>();
    if (executionIds.length === 0) return counts;
    const rows = await this.db
      .selectFrom('deliveries')
      .select((eb) => ['execution_id', 'status', eb.fn.countAll<number>().as('n')])
      .where('execution_id', 'in', executionIds)
      .groupBy(['execution_id', 'status'])
      .execute();
    for (const row of rows) {
      const current = counts.get(row.execution_id) ?? { ...ZERO };
      current[row.status] += Number(row.n);
      counts.set(row.execution_id, current);
    }
    return counts;
  }
}

/** The listing's query, on its own so the bench can EXPLAIN exactly what the API runs. */
export function executionListingQuery(db: HeraldDb, filter: ExecutionListingFilter, limit: number, after?: ExecutionListingPosition) {
  let query = db
    .selectFrom('executions')
    .select([
      'id',
      'request_id',
      'campaign_id',
      'campaign_version',
      'kind',
      'status',
      'failure_reason',
      'created_at',
      'completed_at',
      'sent_count',
      'failed_count',
      'excluded_count',
      'audience_id',
    ])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit);
  if (filter.requestId !== undefined) query = query.where('request_id', '=', filter.requestId);
  if (filter.startedByKeyId !== undefined) query = query.where('started_by_key_id', '=', filter.startedByKeyId);
  if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  // A literal, not a parameter: only then may either planner use the partial index on audience executions.
  if (filter.kind !== undefined) query = query.where('kind', '=', sql.lit(filter.kind));
  if (filter.createdAfter !== undefined) query = query.where('created_at', '>=', filter.createdAfter);
  // A cursor from this listing lies before createdBefore, so its keyset implies the bound; left
  // out, it no longer takes the index range's upper end from the cursor on a deep page.
  if (filter.createdBefore !== undefined && !(after && after.createdAt < filter.createdBefore)) query = query.where('created_at', '<', filter.createdBefore);
  if (after) {
    // A row comparison: both planners seek it in an index ending in (created_at, id). (An extra
    // `created_at <= ?` made SQLite pick a worse index for campaign and status.)
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.executionId)));
  }
  return query;
}

function summary(row: SummaryRow, live: ExecutionCounts | undefined): ExecutionSummary {
  const closed = row.status !== 'running';
  // Closed executions carry their counts (they outlive retention); nothing is pending once closed.
  const counts = closed
    ? { sent: row.sent_count, failed: row.failed_count, excluded: row.excluded_count, pending: 0 }
    : row.kind === 'unitary'
      ? (live ?? ZERO)
      : undefined;
  return {
    ...executionStatusLine(row),
    kind: row.kind,
    ...(counts && { counts }),
    ...(row.audience_id && { audienceId: row.audience_id }),
  };
}
