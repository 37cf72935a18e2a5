import type { HeraldConfig } from '../../config/env';
import type { HeraldDb } from '../../db/database';
import { apiLimiters, type ApiLimiters } from './rate-limit';
import { SharedAuthFailureLimiter } from './shared-auth-failure-limiter';
import { SharedCallLimiter } from './shared-call-limiter';
import { SharedCounterTable } from './shared-counter-table';

/**
 * The one place that picks where the API's limits are counted. On PostgreSQL, where several API
 * replicas may share the database, in its `rate_limit_counters` table, so a limit holds across
 * all of them. On SQLite, in this process.
 */
export function apiLimitersFor(config: HeraldConfig, db: HeraldDb): ApiLimiters {
  if (config.database.dialect !== 'postgres') return apiLimiters(config.http);
  const table = new SharedCounterTable(db);
  return { calls: new SharedCallLimiter(table), authFailures: new SharedAuthFailureLimiter(config.http.authFailuresPerMinute, table) };
}
