import { problemContent } from './problem';

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } };

/**
 * The error answers of the public token endpoints (`/t/*` tracking, `/u/*` unsubscribe): they take
 * no API key, verify an HMAC token and are limited per client address. `forgedDetail` says what a
 * token Herald did not sign changes (nothing).
 */
export function publicTokenErrors(forgedDetail: string) {
  return {
    400: problemContent('Not a token at all (too long, or characters outside base64url)'),
    404: problemContent(forgedDetail),
    429: { ...problemContent('Too many requests from this client address (HERALD_TRACKING_RATE_LIMIT per second)'), headers: retryAfter },
    503: { ...problemContent('The database is briefly unavailable'), headers: retryAfter },
  };
}
