/**
 * Which calls the client sends again, and on what. A retry must never do twice what the server
 * did once:
 * - GET, HEAD, OPTIONS, PUT and DELETE are idempotent (HTTP's own promise, which Herald keeps):
 *   retried on 429, 503 and network errors.
 * - The two triggers (POST /v1/executions/unitary and /v1/executions/audience) carry a requestId
 *   the client keeps across attempts; a repeat with the same requestId and body answers the first
 *   call's execution and starts nothing. Retried like the idempotent methods.
 * - Any other POST, and PATCH, only on 429: the rate limiter refused it before anything was done.
 *   A 503 or a lost answer may come after the change was made, so the caller decides.
 * - Nothing outside /v1 (the health probes answer what they see, a 503 there is the answer).
 * Any other status, 4xx included, is the answer and is returned at once.
 */

/** Calls the server may be sent twice: a repeat changes nothing. */
export type RetryClass = 'repeatable' | 'refused-only' | 'never';

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const TRIGGER_PATHS = ['/v1/executions/unitary', '/v1/executions/audience'];

export function retryClassOf(method: string, url: string): RetryClass {
  const { pathname } = new URL(url);
  if (!pathname.includes('/v1/')) return 'never';
  const upper = method.toUpperCase();
  if (IDEMPOTENT_METHODS.has(upper)) return 'repeatable';
  if (upper === 'POST' && TRIGGER_PATHS.some((path) => pathname.endsWith(path))) return 'repeatable';
  return 'refused-only';
}

/** Whether an answer with this status is sent again. */
export function retriesStatus(retryClass: RetryClass, status: number): boolean {
  if (retryClass === 'never') return false;
  if (status === 429) return true;
  return status === 503 && retryClass === 'repeatable';
}

/** Whether a request that got no answer (connection refused or reset, socket closed) is sent again. */
export function retriesNetworkError(retryClass: RetryClass): boolean {
  return retryClass === 'repeatable';
}
