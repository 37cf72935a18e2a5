/** The provider may accept the same message later (429, 5xx, network): retry it. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailable';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The provider refused the message for good (invalid address, bad payload): never retry. */
export class ProviderRejectedError extends Error {
  override name = 'ProviderRejected';
}

/** Parses Retry-After, which is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** An HTTP status that may succeed later: rate limited (429) or the provider's own failure (5xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** A provider's failed answer as the error Herald acts on: retried after its Retry-After (when it has one), or refused for good. */
export function providerError(retryable: boolean, detail: string, retryAfter: string | null | undefined): ProviderUnavailableError | ProviderRejectedError {
  return retryable ? new ProviderUnavailableError(detail, parseRetryAfter(retryAfter)) : new ProviderRejectedError(detail);
}
