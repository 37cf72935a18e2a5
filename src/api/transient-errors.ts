import { isTransientDatabaseError } from '../db/dialect';
import { isTransientTemporalError } from '../temporal-client/transient-errors';

/** Failures that go away by themselves: Temporal restarting or unreachable, SQLite briefly locked, PostgreSQL restarting or overloaded. */
export function isTransientDependencyError(error: unknown): boolean {
  return isTransientTemporalError(error) || isTransientDatabaseError(error);
}
