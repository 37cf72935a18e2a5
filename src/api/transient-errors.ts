import { ServiceError } from '@temporalio/client';
import { isTransientDatabaseError } from '../db/dialect';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** Failures that go away by themselves: Temporal restarting or unreachable, SQLite briefly locked, PostgreSQL restarting or overloaded. */
export function isTransientDependencyError(error: unknown): boolean {
  if (error instanceof ServiceError) {
    const code = (error.cause as { code?: number } | undefined)?.code;
    return code === undefined || code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED;
  }
  const code = (error as { code?: unknown }).code;
  if (code === GRPC_UNAVAILABLE) return true;
  return isTransientDatabaseError(error);
}
