import { isUniqueViolationCode } from './dialect';

/** A duplicate key on insert, in SQLite's or PostgreSQL's words (codes in dialect.ts). */
export function isUniqueViolation(error: unknown): boolean {
  return isUniqueViolationCode((error as { code?: string }).code);
}
