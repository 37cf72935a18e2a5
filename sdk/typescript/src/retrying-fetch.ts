import { retriesNetworkError, retriesStatus, retryClassOf } from './retry-policy.js';

/** The fetch openapi-fetch calls: one Request in, one Response out. */
export type Fetch = (request: Request) => Promise<Response>;

export interface RetryOptions {
  /** No retry starts, and the attempt in flight is aborted, this long after the call began. Default 30 s. */
  deadlineMs?: number;
  /** The first wait after a network error or a 503 without Retry-After; it doubles each time, with jitter. Default 250 ms. */
  initialDelayMs?: number;
  /** The longest wait between two attempts when the server gives no Retry-After. Default 5 s. */
  maxDelayMs?: number;
}

const DEFAULTS = { deadlineMs: 30_000, initialDelayMs: 250, maxDelayMs: 5_000 } satisfies Required<RetryOptions>;

/**
 * Wraps `fetch` so that a call the retry policy (retry-policy.ts) allows is sent again, the very
 * same request (body, headers, requestId), until it gets an answer worth returning or the
 * deadline comes. The server's Retry-After (seconds or an HTTP date) sets the wait when it gives
 * one; otherwise exponential backoff with jitter, so clients cut off together do not come back
 * together. A wait that would end past the deadline is not started: the last answer is returned
 * (or the last network error thrown) at once. The request's own signal aborts everything.
 */
export function retryingFetch(fetch: Fetch, options: RetryOptions = {}): Fetch {
  const deadlineMs = options.deadlineMs ?? DEFAULTS.deadlineMs;
  const initialDelayMs = options.initialDelayMs ?? DEFAULTS.initialDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  return async (request) => {
    const retryClass = retryClassOf(request.method, request.url);
    const deadline = Date.now() + deadlineMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within the retry deadline of ${deadlineMs} ms`, 'TimeoutError')), deadlineMs);
    const signal = AbortSignal.any([request.signal, controller.signal]);
    try {
      for (let attempt = 0; ; attempt++) {
        const backoffMs = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
        let response: Response;
        try {
          response = await fetch(new Request(request.clone(), { signal }));
        } catch (error) {
          if (signal.aborted || !retriesNetworkError(retryClass) || Date.now() + backoffMs >= deadline) throw signal.aborted ? signal.reason : error;
          await sleep(backoffMs, signal);
          continue;
        }
        if (!retriesStatus(retryClass, response.status)) return response;
        const waitMs = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs;
        if (Date.now() + waitMs >= deadline) return response;
        // Read to the end so the connection can carry the next attempt.
        await response.arrayBuffer().catch(() => undefined);
        await sleep(waitMs, signal);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
