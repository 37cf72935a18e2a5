import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { Problem, problemResponse } from '../problem';

/** Where the codec endpoint lives; the Temporal UI appends /encode and /decode. */
export const CODEC_PATH = '/v1/codec';

/**
 * CORS for the Temporal UI, which calls the codec from the browser: preflights (`OPTIONS`) are
 * answered here, before authentication, since browsers send them without credentials. Allowed:
 * the origins in `allowedOrigins` (HERALD_CODEC_CORS_ORIGINS, default the dev server's UI), with
 * credentials, and the headers the UI sends (content-type, authorization, x-namespace). A
 * request from any other browser origin is refused with 403, not only left unreadable;
 * non-browser clients (CLI, curl) send no Origin and are not affected.
 */
export function codecCors(allowedOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedOrigins);
  const corsMiddleware = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['content-type', 'authorization', 'x-namespace'],
    credentials: true,
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin) && c.req.method !== 'OPTIONS') {
      return problemResponse(
        c,
        new Problem(
          403,
          'origin-not-allowed',
          'Origin not allowed',
          `The codec endpoint does not answer pages from ${origin}; add it to HERALD_CODEC_CORS_ORIGINS.`,
        ),
      );
    }
    return corsMiddleware(c, next);
  };
}
