import { invalidRequest } from '../domain/errors';
import type { AuditEntry, AuditLogFilter } from '../repositories/audit-log';
import type { ServiceDependencies } from './service-dependencies';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The cursor is opaque to clients: the last entry's id, base64url-encoded. */
const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ULID.test(id))
    throw invalidRequest([{ field: 'cursor', message: 'not a cursor from a previous page' }], 'Pass nextCursor from the previous page as it was.');
  return id;
}

/**
 * The ids a `resourceId` filter matches. Profiles are named by their internal id since migration
 * 0022; a caller that asks by `<namespace>/<userId>` gets the entries under both names while the
 * profile exists (after an erasure only the internal id is left, and nothing leads to it).
 */
async function resourceIdsOf(
  deps: ServiceDependencies,
  resourceType: AuditLogFilter['resourceType'],
  resourceId: string | undefined,
): Promise<string | string[] | undefined> {
  const slash = resourceId?.indexOf('/') ?? -1;
  if (resourceId === undefined || slash <= 0 || (resourceType !== undefined && resourceType !== 'profile')) return resourceId;
  const profileId = await deps.auditLog.profileIdOf(resourceId.slice(0, slash), resourceId.slice(slash + 1));
  return profileId === undefined ? resourceId : [resourceId, profileId];
}

/** Audit entries newest first, filtered, a page at a time. */
export async function listAuditLog(
  deps: ServiceDependencies,
  query: Omit<AuditLogFilter, 'before' | 'resourceId'> & { resourceId?: string; cursor?: string },
): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
  const { cursor, resourceId, ...filter } = query;
  const resourceIds = await resourceIdsOf(deps, filter.resourceType, resourceId);
  const { items, hasMore } = await deps.auditLog.list({
    ...filter,
    ...(resourceIds !== undefined && { resourceId: resourceIds }),
    ...(cursor !== undefined && { before: decodeCursor(cursor) }),
  });
  return { items, ...(hasMore && { nextCursor: encodeCursor(items[items.length - 1]!.id) }) };
}
