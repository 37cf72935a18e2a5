import { isIPv4, isIPv6 } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { TokenBucket, type Interval } from 'limiter';
import { LRUCache } from 'lru-cache';
import type { HeraldConfig } from '../../config/env';
import { environmentKeyId, OPEN_PRINCIPAL } from '../../domain/api-key';
import { Problem, problemResponse } from '../problem';

/**
 * At most this many buckets per limiter, whatever callers send: the least recently used one is
 * dropped first. A dropped bucket starts full again, so an attacker who fills the table only
 * resets limits it would otherwise be held to, and never grows the process.
 */
export const MAX_LIMITER_ENTRIES = 10_000;

/** limiter starts buckets empty; a new caller gets its whole burst. */
function fullBucket(size: number, interval: Interval): TokenBucket {
  const bucket = new TokenBucket({ bucketSize: size, tokensPerInterval: size, interval });
  bucket.content = size;
  return bucket;
}

/**
 * The caller's address as limits count it: an IPv4 address, or the /64 an IPv6 address lies in
 * (one host usually owns a whole /64, so rotating addresses inside it gains nothing).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const tailWidth = tailGroups.reduce((width, group) => width + (group.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailWidth).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

export function clientAddressKey(c: Context): string {
  try {
    return addressKey(getConnInfo(c).remote.address);
  } catch {
    return 'unknown'; // not served by @hono/node-server (app.request in tests)
  }
}

/**
 * Failed authentications per client address. Only failures may create state, keyed by address
 * and never by the token that failed; asking creates nothing. Answers may come at once (in
 * process) or from the shared store (PostgreSQL).
 */
export interface FailedAuthLimiter {
  readonly perMinute: number;
  /** Seconds until this address may try again, or 0 when it may now. Creates no state. */
  retryAfterSeconds(address: string): number | Promise<number>;
  recordFailure(address: string): void | Promise<void>;
}

/**
 * Failed authentications per client address, in this process: `perMinute` of them, refilled
 * evenly over a minute. An entry expires once its bucket would be full again.
 */
export class AuthFailureLimiter implements FailedAuthLimiter {
  private readonly buckets: LRUCache<string, TokenBucket>;

  constructor(
    readonly perMinute: number,
    maxEntries = MAX_LIMITER_ENTRIES,
  ) {
    this.buckets = new LRUCache({ max: maxEntries, ttl: 60_000 });
  }

  /** Seconds until this address may try again, or 0 when it may now. Creates no entry. */
  retryAfterSeconds(address: string): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return 0;
    bucket.drip();
    return bucket.content >= 1 ? 0 : Math.max(1, Math.ceil(((1 - bucket.content) * 60) / this.perMinute));
  }

  recordFailure(address: string): void {
    const bucket = this.buckets.get(address) ?? fullBucket(this.perMinute, 'minute');
    bucket.tryRemoveTokens(1);
    this.buckets.set(address, bucket); // restarts the expiry
  }

  get size(): number {
    return this.buckets.size;
  }
}

export interface CallAllowance {
  allowed: boolean;
  headers: Record<string, string>;
  retryAfterSeconds: number;
}

/** Calls per second per caller (`key:<id>`, or `address:<address>` when the API runs open). */
export interface CallLimiter {
  take(caller: string, rate: number): CallAllowance | Promise<CallAllowance>;
}

/** Calls per second per caller, in this process: a token bucket per caller. */
export class CallRateLimiter implements CallLimiter {
  private readonly buckets: LRUCache<string, TokenBucket>;

  constructor(maxEntries = MAX_LIMITER_ENTRIES) {
    this.buckets = new LRUCache({ max: maxEntries });
  }

  take(caller: string, rate: number): CallAllowance {
    let bucket = this.buckets.get(caller);
    if (!bucket || bucket.bucketSize !== rate) {
      bucket = fullBucket(rate, 'second');
      this.buckets.set(caller, bucket);
    }
    const allowed = bucket.tryRemoveTokens(1);
    const remaining = Math.max(0, Math.floor(bucket.content));
    const resetSeconds = Math.max(1, Math.ceil((rate - bucket.content) / rate));
    return {
      allowed,
      headers: {
        'ratelimit-limit': String(rate),
        'ratelimit-remaining': String(remaining),
        'ratelimit-reset': String(resetSeconds),
        'ratelimit-policy': `${rate};w=1`,
      },
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.content) / rate)),
    };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Whom the buckets belong to (`key:<id>` or `address:<address>`), for tests and debugging. */
  callers(): string[] {
    return [...this.buckets.keys()];
  }
}

/** The API's limiters; one set per API process (see limiters-for-database.ts for which). */
export interface ApiLimiters {
  calls: CallLimiter;
  authFailures: FailedAuthLimiter;
}

/** Limiters that count in this process only: each replica limits on its own. */
export interface InProcessLimiters extends ApiLimiters {
  calls: CallRateLimiter;
  authFailures: AuthFailureLimiter;
}

export function apiLimiters(http: HeraldConfig['http']): InProcessLimiters {
  return { calls: new CallRateLimiter(), authFailures: new AuthFailureLimiter(http.authFailuresPerMinute) };
}

/**
 * HERALD_RATE_LIMIT calls a second per API key id, bursts up to one second's worth.
 * HERALD_RATE_LIMITS names a key by its value (bootstrap keys) or by its id. Runs after
 * authentication, so only keys that authenticated are counted, and never under their token.
 */
export function rateLimit(http: HeraldConfig['http'], calls: CallLimiter): MiddlewareHandler {
  const { perSecond, perKey } = http.rateLimit;
  const perKeyId = new Map(Object.entries(perKey).map(([name, rate]) => [http.apiKeys.includes(name) ? environmentKeyId(name) : name, rate]));

  return async (c, next) => {
    const { keyId } = c.get('principal');
    const caller = keyId === OPEN_PRINCIPAL.keyId ? `address:${clientAddressKey(c)}` : `key:${keyId}`;
    const rate = perKeyId.get(keyId) ?? perSecond;
    const { allowed, headers, retryAfterSeconds } = await calls.take(caller, rate);
    if (!allowed) {
      return problemResponse(
        c,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          `This API key may make ${rate} calls per second; retry after ${retryAfterSeconds} s.`,
          undefined,
          { ...headers, 'retry-after': String(retryAfterSeconds) },
        ),
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
