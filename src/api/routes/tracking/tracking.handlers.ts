import type { RouteHandler } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { storedUserAgent, TrackingTokens, type TrackingTarget } from '../../../domain/tracking';
import { linkHostProblem } from '../../../domain/link-hosts.mjs';
import { TrackingRepository } from '../../../repositories/tracking';
import type { ServiceDependencies } from '../../../services/service-dependencies';
import { clientAddressKey, type CallLimiter } from '../../middlewares/rate-limit';
import { Problem, problemResponse } from '../../problem';
import type * as routes from './tracking.routes';

/** A 1×1 transparent GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const NO_STORE = { 'cache-control': 'no-store, no-cache, must-revalidate, private', pragma: 'no-cache', expires: '0' };

const unknownToken = () => new Problem(404, 'not-found', 'Not found', 'This tracking link does not exist.', undefined, { 'cache-control': 'no-store' });

/**
 * HERALD_TRACKING_RATE_LIMIT requests a second per client address (IPv6: per /64) on the public
 * endpoints, counted by the API's call limiter under their own key (`tracking:<address>`): in
 * this process with a bounded table, or in PostgreSQL across replicas.
 */
export function trackingRateLimit(perSecond: number, calls: CallLimiter): MiddlewareHandler {
  return async (c, next) => {
    const { allowed, headers, retryAfterSeconds } = await calls.take(`tracking:${clientAddressKey(c)}`, perSecond);
    if (!allowed) {
      return problemResponse(
        c,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          `This address may make ${perSecond} tracking requests per second; retry after ${retryAfterSeconds} s.`,
          undefined,
          { ...headers, 'retry-after': String(retryAfterSeconds) },
        ),
      );
    }
    await next();
  };
}

/** A Location header value: the URL as stored when it is plain printable ASCII, else its ASCII serialisation. */
function location(url: string): string {
  return /^[\x21-\x7e]+$/.test(url) ? url : new URL(url).href;
}

export function trackingHandlers(deps: ServiceDependencies) {
  const { secrets } = deps.config.tracking;
  // Without a key nothing was signed by this deployment, so every token is unknown.
  const tokens = secrets.length > 0 ? new TrackingTokens(secrets) : undefined;
  const events = new TrackingRepository(deps.db);
  const verify = <K extends TrackingTarget['kind']>(token: string, kind: K) => {
    const target = tokens?.verify(token);
    return target?.kind === kind ? (target as Extract<TrackingTarget, { kind: K }>) : undefined;
  };
  // HEAD (link scanners, prefetchers) is answered like GET but records nothing.
  const records = (c: Context) => c.req.method === 'GET';

  const open: RouteHandler<typeof routes.trackOpen> = async (c) => {
    const target = verify(c.req.valid('param').token, 'open');
    if (!target) throw unknownToken();
    if (records(c) && (await events.isTracked(target.executionId, target.position))) {
      await events.record({
        executionId: target.executionId,
        position: target.position,
        type: 'opened',
        userAgent: storedUserAgent(c.req.header('user-agent')),
      });
    }
    return c.body(new Uint8Array(PIXEL), 200, { 'content-type': 'image/gif', ...NO_STORE });
  };

  const click: RouteHandler<typeof routes.trackClick> = async (c) => {
    const target = verify(c.req.valid('param').token, 'click');
    if (!target) throw unknownToken();
    // The destination comes from Herald's database only, never from the request.
    const url = await events.linkUrl(target.executionId, target.position, target.link);
    // Only ever http(s): preparation stores nothing else, and this holds even for a row put there by hand.
    if (url === undefined || !/^https?:\/\//i.test(url)) throw unknownToken();
    // Nor one whose authority carries userinfo (`https://shop.example.com@attacker.example/` leads
    // to attacker.example): preparation no longer stores such links, rows stored before may hold them.
    if (linkHostProblem(url, () => true) !== undefined) throw unknownToken();
    if (records(c))
      await events.record({
        executionId: target.executionId,
        position: target.position,
        type: 'clicked',
        linkIndex: target.link,
        userAgent: storedUserAgent(c.req.header('user-agent')),
      });
    return c.body(null, 302, { location: location(url), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  };

  return { open, click };
}
