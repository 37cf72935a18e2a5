import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { CallLeases, leaseChunk, type LeaseGrant, type LeaseSpend } from './call-lease';
import { CallRateLimiter, MAX_LIMITER_ENTRIES, type CallAllowance, type CallLimiter } from './rate-limit';
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
 * A replica counts points in the shared row a chunk at a time (`leaseChunk`: 1 below 40 calls/s,
 * 25 at the default 500, at most 100) and spends them locally (`CallLeases`), so a busy key costs
 * one upsert of its row per chunk instead of one per call. What that trades:
 * - Points leased and not spent by a window's end are lost, and while a replica holds them the
 *   others cannot have them: at most replicas × chunk calls of a window may be refused early
 *   (2 replicas at 500 calls/s with 25-point chunks: at most 50 of the 500). Never more than N
 *   are allowed in a window: every point is counted in the row before it is spent.
 * - `ratelimit-remaining` is approximate: the shared count's remaining at the lease, plus what
 *   this replica has not spent of it, so other replicas' calls since are not seen.
 * - A window seen spent is refused locally until it ends, without asking the row again.
 *
 * When PostgreSQL does not answer, the call is limited by this replica's in-process limiter
 * instead (bounded to MAX_LIMITER_ENTRIES callers): the API keeps serving what it can serve
 * without the database, each replica holding a key to N calls/s on its own, rather than refusing
 * every call because the counter is out of reach. Calls that need the database answer 503 from
 * their route anyway. The library's insuranceLimiter is not used: RateLimiterMemory keeps one
 * entry per key with no bound on their number. The leases are bounded the same way, so the
 * process stays the same size however many callers there are.
 */
export class SharedCallLimiter implements CallLimiter {
  /** One limiter per distinct rate; rates come from the configuration, so there are few. */
  private readonly byRate = new Map<number, RateLimiterPostgres>();
  private readonly leases: CallLeases;

  constructor(
    private readonly table: SharedCounterTable,
    private readonly fallback: CallLimiter = new CallRateLimiter(),
    maxLeases = MAX_LIMITER_ENTRIES,
  ) {
    this.leases = new CallLeases(maxLeases);
  }

  async take(caller: string, rate: number): Promise<CallAllowance> {
    const spend = await this.leases.spend(`${rate}:${caller}`, () => this.lease(caller, rate));
    return spend ? callAllowance(rate, spend) : this.fallback.take(caller, rate);
  }

  /** How many callers hold a lease, for tests. */
  get leasedCallers(): number {
    return this.leases.size;
  }

  /**
   * Counts a chunk in the shared row. The library adds the points even when it refuses them
   * (RateLimiterStoreAbstract rejects with the row's count once it is over the rate), so a
   * refused chunk leaves the row over the rate: no replica gets another point this window. The
   * part of the chunk that was still under the rate before it is this replica's to spend, so the
   * last points of a window are granted exactly, in the same one statement. (Giving the chunk
   * back and counting single points would take up to three statements, and a give-back that lands
   * after the window's end would start the next window below zero.) The excess is never given
   * back: the row resets at the window's end, so it costs the next window nothing.
   */
  private async lease(caller: string, rate: number): Promise<LeaseGrant> {
    const chunk = leaseChunk(rate);
    try {
      return leaseGrant(chunk, await this.limiterFor(rate).consume(caller, chunk));
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      const countedBefore = outcome.consumedPoints - chunk;
      return leaseGrant(Math.min(chunk, Math.max(0, rate - countedBefore)), outcome);
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

function leaseGrant(points: number, window: RateLimiterRes): LeaseGrant {
  return { points, sharedRemaining: window.remainingPoints, msBeforeNext: window.msBeforeNext };
}

function callAllowance(rate: number, { allowed, remaining, msBeforeNext }: LeaseSpend): CallAllowance {
  const resetSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return {
    allowed,
    headers: {
      'ratelimit-limit': String(rate),
      'ratelimit-remaining': String(allowed ? remaining : 0),
      'ratelimit-reset': String(resetSeconds),
      'ratelimit-policy': `${rate};w=1`,
    },
    retryAfterSeconds: resetSeconds,
  };
}
