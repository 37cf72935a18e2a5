import { createRoute, z } from '@hono/zod-openapi';
import { publicTokenErrors } from '../../public-token-errors';

const tags = ['Tracking'];

const TokenParams = z.object({
  token: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a tracking token (base64url)')
    .openapi({ param: { name: 'token', in: 'path' }, example: 'bzowMUtFWEFNUExFOjA.SGVyYWxkIHRyYWNraW5nIHRva2VuIGV4YW1wbGUgb25seQ' }),
});

const errors = publicTokenErrors('A token Herald did not sign (forged, altered or garbled), or a link retention has removed. Nothing is recorded.');

// Public: these addresses are in the emails and SMS Herald sends, so they take no API key. They are
// outside /v1 (no authentication, no API key rate limit) and declare an empty security list.
export const trackOpen = createRoute({
  method: 'get',
  path: '/t/o/{token}',
  tags,
  security: [],
  summary: 'Open pixel: records an open and answers a 1×1 transparent GIF',
  description:
    'The address of the open pixel in a tracked email. Needs no API key. The token is HMAC-signed by Herald; a forged one answers 404 and records nothing. Every genuine request is recorded (repeats too); HEAD records nothing.',
  request: { params: TokenParams },
  responses: {
    200: {
      description: 'A 1×1 transparent GIF, never cached',
      content: { 'image/gif': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    ...errors,
  },
});

export const trackClick = createRoute({
  method: 'get',
  path: '/t/c/{token}',
  tags,
  security: [],
  summary: 'Tracked link: records a click and redirects to the original URL',
  description:
    "The address a tracked link in an email or SMS points to. Needs no API key. The token names the delivery and the link; the destination is read from Herald's database, never from the token, so a forged token (404) can never redirect anywhere.",
  request: { params: TokenParams },
  responses: {
    302: {
      description: "Redirect to the link's original URL",
      headers: { Location: { description: 'The original URL of the link', schema: { type: 'string' as const } } },
    },
    ...errors,
  },
});
