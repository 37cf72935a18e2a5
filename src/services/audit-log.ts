import { invalidRequest } from '../domain/errors';
import type { AuditEntry, AuditLogFilter } from '../repositories/audit-log';
import type { ServiceDependencies } from './service-dependencies';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The cursor is opaque to clients: the last entry's id, base64url-encoded. */
const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ULID.test(id)) throw invalidRequest([{ field: 'cursor', message: 'not a cursor from a previous page' }], 'Pass nextCursor from the previous page as it was.');
  return id;
}

/** Audit entries newest first, filtered, a page at a time. */
export async function listAuditLog(deps: ServiceDependencies, query: Omit<AuditLogFilter, 'before'> & { cursor?: string }): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
  const { cursor, ...filter } = query;
  const { items, hasMore } = await deps.auditLog.list({ ...filter, ...(cursor !== undefined && { before: decodeCursor(cursor) }) });
  return { items, ...(hasMore && { nextCursor: encodeCursor(items[items.length - 1]!.id) }) };
}
