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
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === GRPC_UNAVAILABLE;
}
