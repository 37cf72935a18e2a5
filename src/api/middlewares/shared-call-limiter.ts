import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { CallRateLimiter, type CallAllowance, type CallLimiter } from './rate-limit';
import type { SharedCounterTable } from './shared-counter-table';

/** One prefix for every rate: a caller has one count, whichever rate a replica applies to it. */
const CALLS_KEY_PREFIX = 'calls';

/**
 * Calls per second per caller, counted in PostgreSQL, so every API replica draws on the same
 * count: a key limited to N calls/s gets about N across all replicas, not N per replica.
 *
 * rate-limiter-flexible counts in fixed windows: N calls in each one-second window that starts
 * with a caller's first call, so about N a second (two windows' worth can meet at a window edge).
 *
 * When PostgreSQL does not answer, the call is limited by this replica's in-process limiter
 * instead (bounded to MAX_LIMITER_ENTRIES callers): the API keeps serving what it can serve
 * without the database, each replica holding a key to N calls/s on its own, rather than refusing
 * every call because the counter is out of reach. Calls that need the database answer 503 from
 * their route anyway. The library's insuranceLimiter is not used: RateLimiterMemory keeps one
 * entry per key with no bound on their number.
 */
export class SharedCallLimiter implements CallLimiter {
  /** One limiter per distinct rate; rates come from the configuration, so there are few. */
  private readonly byRate = new Map<number, RateLimiterPostgres>();

  constructor(
    private readonly table: SharedCounterTable,
    private readonly fallback: CallLimiter = new CallRateLimiter(),
  ) {}

  async take(caller: string, rate: number): Promise<CallAllowance> {
    try {
      return callAllowance(rate, true, await this.limiterFor(rate).consume(caller));
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) return callAllowance(rate, false, outcome);
      return this.fallback.take(caller, rate);
    }
  }

  private limiterFor(rate: number): RateLimiterPostgres {
    let limiter = this.byRate.get(rate);
    if (!limiter) {
      limiter = this.table.limiter(CALLS_KEY_PREFIX, rate, 1);
      this.byRate.set(rate, limiter);
    }
    return limiter;
  }
}

function callAllowance(rate: number, allowed: boolean, window: RateLimiterRes): CallAllowance {
  const resetSeconds = Math.max(1, Math.ceil(window.msBeforeNext / 1000));
  return {
    allowed,
    headers: {
      'ratelimit-limit': String(rate),
      'ratelimit-remaining': String(allowed ? window.remainingPoints : 0),
      'ratelimit-reset': String(resetSeconds),
      'ratelimit-policy': `${rate};w=1`,
    },
    retryAfterSeconds: resetSeconds,
  };
}
