import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { TokenBucket } from 'limiter';
import type { HeraldConfig } from '../../config/env';
import { Problem, problemResponse } from '../problem';

/** The caller a bucket belongs to: its API key, or its address when the API runs open. */
function callerIdentity(c: Context): string {
  const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization')?.trim() ?? '');
  if (match) return `key:${match[1]}`;
  try {
    return `ip:${getConnInfo(c).remote.address ?? 'unknown'}`;
  } catch {
    return 'ip:unknown';
  }
}

/**
 * Token bucket per API key: `perSecond` tokens a second, bursts up to one second's worth.
 * Runs after authentication, so only real keys get buckets.
 */
export function rateLimit(limits: HeraldConfig['http']['rateLimit']): MiddlewareHandler {
  const buckets = new Map<string, TokenBucket>();
  const rateFor = (identity: string) => (identity.startsWith('key:') ? limits.perKey[identity.slice(4)] : undefined) ?? limits.perSecond;

  return async (c, next) => {
    const identity = callerIdentity(c);
    const rate = rateFor(identity);
    let bucket = buckets.get(identity);
    if (!bucket) {
      bucket = new TokenBucket({ bucketSize: rate, tokensPerInterval: rate, interval: 'second' });
      bucket.content = rate; // limiter starts buckets empty; a new caller gets a full second's burst
      buckets.set(identity, bucket);
    }
    const allowed = bucket.tryRemoveTokens(1);
    const remaining = Math.max(0, Math.floor(bucket.content));
    const resetSeconds = Math.max(1, Math.ceil((rate - bucket.content) / rate));
    const headers = { 'ratelimit-limit': String(rate), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetSeconds), 'ratelimit-policy': `${rate};w=1` };
    if (!allowed) {
      const retryAfter = String(Math.max(1, Math.ceil((1 - bucket.content) / rate)));
      return problemResponse(c, new Problem(429, 'rate-limited', 'Too many requests', `This API key may make ${rate} calls per second; retry after ${retryAfter} s.`, undefined, { ...headers, 'retry-after': retryAfter }));
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
