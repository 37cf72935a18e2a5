import { LRUCache } from 'lru-cache';
import { MAX_LIMITER_ENTRIES } from './rate-limit';

/**
 * How many points a replica counts in the shared row at once for a caller limited to `rate`
 * calls/s: a twentieth of the rate, between 1 and 100. Small rates stay exact (below 40 calls/s
 * every call is counted on its own, as it was before leases), the default 500 takes 25 at a time,
 * so one statement in 25 calls; past 2,000 calls/s the chunk stays at 100, so the points a
 * replica may hold unspent (and lose at a window's end) stay a small share of any rate.
 */
export function leaseChunk(rate: number): number {
  return Math.min(100, Math.max(1, Math.floor(rate / 20)));
}

/** What the shared count granted to one lease. */
export interface LeaseGrant {
  /** Points counted for this replica alone in the current window: 0 when the window had none left. */
  points: number;
  /** Points left in the shared count for every replica after this lease. */
  sharedRemaining: number;
  msBeforeNext: number;
}

/** What one call got from its caller's lease. */
export interface LeaseSpend {
  allowed: boolean;
  /** About how many calls the window has left across replicas: the shared count's, plus this replica's unspent points. */
  remaining: number;
  msBeforeNext: number;
}

/** Points of one window this replica has counted in the shared row and not spent yet. */
interface Lease {
  unspent: number;
  sharedRemaining: number;
  windowEnd: number;
}

/**
 * Leases of shared rate-limit points, one per caller and rate: a call spends a point of its
 * caller's lease while the lease has one and its window lasts, and only otherwise asks the
 * shared count for a new lease (`lease`, which resolves to a grant or rejects when the count
 * cannot be reached).
 *
 * Concurrent calls for one caller share one lease in flight: the others await it and spend
 * from it, so a burst of calls makes one lease per chunk, not one per call.
 *
 * At most `maxEntries` callers hold a lease; the least recently used is dropped first, which an
 * expired lease (untouched for its whole second) usually is. A dropped lease only loses its
 * unspent points, as a lease does at its window's end. Leases in flight are bounded by the calls
 * waiting on them.
 */
export class CallLeases {
  private readonly held: LRUCache<string, Lease>;
  /** Resolves once the lease in flight is held (true) or could not be had (false). */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(maxEntries = MAX_LIMITER_ENTRIES) {
    this.held = new LRUCache({ max: maxEntries });
  }

  /** One call's point, or undefined when the shared count could not be reached. */
  async spend(key: string, lease: () => Promise<LeaseGrant>): Promise<LeaseSpend | undefined> {
    for (;;) {
      const fromHeld = this.spendHeld(key);
      if (fromHeld) return fromHeld;
      const leasing = this.inFlight.get(key);
      if (!leasing) return this.leaseAndSpend(key, lease);
      if (!(await leasing)) return undefined;
    }
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * A point of the held lease, a refusal when its window has none left for anyone (the shared
   * count only grows within a window, so a window seen spent stays spent), or undefined when a
   * new lease is needed.
   */
  private spendHeld(key: string): LeaseSpend | undefined {
    const lease = this.held.get(key);
    const msBeforeNext = lease ? lease.windowEnd - Date.now() : 0;
    if (!lease || msBeforeNext <= 0) return undefined;
    if (lease.unspent > 0) {
      lease.unspent--;
      return { allowed: true, remaining: lease.sharedRemaining + lease.unspent, msBeforeNext };
    }
    return lease.sharedRemaining === 0 ? { allowed: false, remaining: 0, msBeforeNext } : undefined;
  }

  /** The caller that leases spends its point from the grant itself, however short the window left. */
  private async leaseAndSpend(key: string, lease: () => Promise<LeaseGrant>): Promise<LeaseSpend | undefined> {
    let settle!: (held: boolean) => void;
    this.inFlight.set(key, new Promise((resolve) => (settle = resolve)));
    try {
      const grant = await lease();
      const allowed = grant.points > 0;
      const unspent = allowed ? grant.points - 1 : 0;
      this.held.set(key, { unspent, sharedRemaining: grant.sharedRemaining, windowEnd: Date.now() + Math.max(0, grant.msBeforeNext) });
      settle(true);
      return { allowed, remaining: allowed ? grant.sharedRemaining + unspent : 0, msBeforeNext: grant.msBeforeNext };
    } catch {
      settle(false);
      return undefined;
    } finally {
      this.inFlight.delete(key);
    }
  }
}
