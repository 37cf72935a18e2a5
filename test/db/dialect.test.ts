import { describe, expect, it } from 'vitest';
import { isTransientDependencyError } from '../../src/api/transient-errors';
import { readJson } from '../../src/db/dialect';
import { isUniqueViolation } from '../../src/db/unique-violation';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('the dialect seam', () => {
  it('answers 503 for transient SQLite and PostgreSQL errors, and only for those', () => {
    for (const code of [
      'SQLITE_BUSY',
      'SQLITE_BUSY_SNAPSHOT',
      'SQLITE_LOCKED',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '40001',
      '40P01',
      '53300',
      'ECONNREFUSED',
      'ECONNRESET',
    ]) {
      expect(isTransientDependencyError(withCode(code)), code).toBe(true);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(isTransientDependencyError(new Error(message)), message).toBe(true);
    }
    expect(isTransientDependencyError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe(true);
    for (const code of ['23505', '42P01', '22P02', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR']) {
      expect(isTransientDependencyError(withCode(code)), code).toBe(false);
    }
  });

  it('knows a unique violation in both dialects', () => {
    for (const code of ['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']) expect(isUniqueViolation(withCode(code))).toBe(true);
    expect(isUniqueViolation(withCode('23503'))).toBe(false);
  });

  it('reads JSON text (SQLite, TEXT columns) and parsed jsonb (pg) alike', () => {
    expect(readJson('{"plan":"pro"}')).toEqual({ plan: 'pro' });
    expect(readJson({ plan: 'pro' })).toEqual({ plan: 'pro' });
  });
});
