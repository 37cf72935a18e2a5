import { createHash } from 'node:crypto';
import type { Principal } from '../domain/api-key';
import { invalidRequest } from '../domain/errors';
import {
  ExecutionListingRepository,
  type ExecutionListingFilter,
  type ExecutionListingPosition,
  type ExecutionSummary,
} from '../repositories/execution-listing';
import type { ServiceDependencies } from './service-dependencies';

export interface ExecutionListingQuery extends Omit<ExecutionListingFilter, 'startedByKeyId'> {
  limit: number;
  cursor?: string;
}

const CURSOR_VERSION = 'e1';
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EXECUTION_ID = /^[0-9A-Za-z_-]{1,64}$/;
const badCursor = () =>
  invalidRequest(
    [{ field: 'cursor', message: 'not a cursor from a previous page of this listing' }],
    'Pass nextCursor from the previous page as it was, with the same filters.',
  );

/**
 * Names the filtered listing a cursor belongs to, so a cursor taken to another filter set (or
 * another key's listing) is refused instead of silently paging a different list. A hash: the
 * cursor shows nothing of the filters or the key.
 */
function fingerprint(filter: ExecutionListingFilter): string {
  const fields = [filter.campaignId, filter.status, filter.requestId, filter.kind, filter.createdAfter, filter.createdBefore, filter.startedByKeyId];
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url').slice(0, 16);
}

/** Opaque to clients: base64url of the version, the last execution's (createdAt, id), and the listing's fingerprint. */
function encodeCursor(position: ExecutionListingPosition, filter: ExecutionListingFilter): string {
  return Buffer.from([CURSOR_VERSION, position.createdAt, position.executionId, fingerprint(filter)].join(' '), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, filter: ExecutionListingFilter): ExecutionListingPosition {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  const [version, createdAt, executionId, listing, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(' ');
  if (version !== CURSOR_VERSION || rest.length > 0 || !createdAt || !CREATED_AT.test(createdAt) || !executionId || !EXECUTION_ID.test(executionId))
    throw badCursor();
  if (listing !== fingerprint(filter)) throw badCursor();
  return { createdAt, executionId };
}

/** The stored form of a date-time filter: UTC with milliseconds, as `created_at` is written. */
const storedInstant = (value: string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

/**
 * Executions newest first, filtered, a page at a time. A trigger key lists only the executions
 * it started, whatever it filters by; full keys (and the open API) list every execution.
 */
export async function listExecutions(
  deps: ServiceDependencies,
  principal: Principal,
  query: ExecutionListingQuery,
): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
  const { limit, cursor, ...requested } = query;
  const filter: ExecutionListingFilter = {
    ...requested,
    createdAfter: storedInstant(requested.createdAfter),
    createdBefore: storedInstant(requested.createdBefore),
    ...(principal.scope !== 'full' && { startedByKeyId: principal.keyId }),
  };
  for (const key of Object.keys(filter) as (keyof ExecutionListingFilter)[]) if (filter[key] === undefined) delete filter[key];
  if (filter.createdAfter !== undefined && filter.createdBefore !== undefined && filter.createdAfter >= filter.createdBefore) {
    throw invalidRequest([{ field: 'createdBefore', message: 'must be later than createdAfter' }], 'createdAfter must be earlier than createdBefore.');
  }
  const after = cursor === undefined ? undefined : decodeCursor(cursor, filter);
  const { items, hasMore } = await new ExecutionListingRepository(deps.db).page(filter, limit, after);
  const last = items[items.length - 1];
  return { items, ...(hasMore && last && { nextCursor: encodeCursor({ createdAt: last.createdAt, executionId: last.executionId }, filter) }) };
}
