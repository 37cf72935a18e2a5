import { ServiceError } from '@temporalio/client';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** Failures that go away by themselves: Temporal restarting or unreachable, SQLite briefly locked. */
export function isTransientDependencyError(error: unknown): boolean {
  if (error instanceof ServiceError) {
    const code = (error.cause as { code?: number } | undefined)?.code;
    return code === undefined || code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
  }
  const code = (error as { code?: unknown }).code;
  if (code === GRPC_UNAVAILABLE) return true;
  // Every extended code counts: SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, SQLITE_LOCKED_SHAREDCACHE, ...
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
