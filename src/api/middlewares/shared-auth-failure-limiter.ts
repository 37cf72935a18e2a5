import { BurstyRateLimiter, RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { AuthFailureLimiter, type FailedAuthLimiter } from './rate-limit';
import type { SharedCounterTable } from './shared-counter-table';

/**
 * How long the burst allowance takes to come back. Long, so that an address failing without end
 * gets about `perMinute` failures a minute (plus a tenth), not twice that.
 */
const BURST_WINDOW_SECONDS = 600;

/**
 * Failed authentications per client address, counted in PostgreSQL, so an address gets
 * `perMinute` failures across all API replicas, not `perMinute` per replica.
 *
 * rate-limiter-flexible's windows are fixed; one window of a minute would make an address that
 * failed `perMinute` times wait up to a whole minute. As the in-process token bucket does, this
 * one lets the next failure through after a `perMinute`-th of a minute: a steady limiter (one
 * failure per 60/perMinute s, about) and a burst limiter for the rest of the first `perMinute`,
 * combined by the library's BurstyRateLimiter (its token-bucket analogue).
 *
 * Only failures consume, keyed by address and never by the token; asking reads and creates
 * nothing. When PostgreSQL does not answer, this replica's in-process limiter (bounded to
 * MAX_LIMITER_ENTRIES addresses) counts instead, so failures stay limited per replica.
 */
export class SharedAuthFailureLimiter implements FailedAuthLimiter {
  private readonly steady: RateLimiterPostgres;
  private readonly burst: RateLimiterPostgres;
  private readonly failures: BurstyRateLimiter;

  constructor(
    readonly perMinute: number,
    table: SharedCounterTable,
    private readonly fallback: FailedAuthLimiter = new AuthFailureLimiter(perMinute),
  ) {
    // Whole seconds: the library stores expiry as integer milliseconds from `duration`.
    const steadyWindowSeconds = Math.max(1, Math.floor(60 / perMinute));
    const perSteadyWindow = Math.max(1, Math.round((perMinute * steadyWindowSeconds) / 60));
    this.steady = table.limiter('auth-failures', perSteadyWindow, steadyWindowSeconds);
    this.burst = table.limiter('auth-failures-burst', perMinute - perSteadyWindow, BURST_WINDOW_SECONDS);
    this.failures = new BurstyRateLimiter(this.steady, this.burst);
  }

  async retryAfterSeconds(address: string): Promise<number> {
    try {
      // One read in the usual case: an address with steady failures to spare (or none at all).
      const steady = await this.steady.get(address);
      if ((steady?.consumedPoints ?? 0) < this.steady.points) return 0;
      const burst = await this.burst.get(address);
      if ((burst?.consumedPoints ?? 0) < this.burst.points) return 0;
      // Both spent: the next failure gets through once either window that grants any ends.
      const steadyEndsMs = steady?.msBeforeNext ?? 0;
      const waitMs = this.burst.points > 0 ? Math.min(steadyEndsMs, burst?.msBeforeNext ?? 0) : steadyEndsMs;
      return Math.max(1, Math.ceil(waitMs / 1000));
    } catch {
      return this.fallback.retryAfterSeconds(address);
    }
  }

  async recordFailure(address: string): Promise<void> {
    try {
      await this.failures.consume(address);
    } catch (outcome) {
      // A RateLimiterRes says the address is over its limit, which the next retryAfterSeconds sees.
      if (!(outcome instanceof RateLimiterRes)) await this.fallback.recordFailure(address);
    }
  }
}
