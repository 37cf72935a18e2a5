import { isRetryableStatus, providerError, ProviderUnavailableError, type ProviderRejectedError } from './provider-errors';

/** A provider's answer, read whole whatever its status: the provider makes sense of it. */
export interface ProviderAnswer {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
}

/**
 * One provider call over HTTP with fetch, abandoned after `timeoutMs` (the provider's timeout
 * setting), so a hung provider is retried long before the activity times out. No answer at all
 * (refused, reset, DNS, the timeout) is ProviderUnavailableError `<provider> unreachable: …`, with
 * the network error's code; every answer is returned, whatever its status.
 */
export async function callProvider(provider: string, url: string, init: Omit<RequestInit, 'signal'>, timeoutMs: number): Promise<ProviderAnswer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, ok: response.ok, headers: response.headers, text: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new ProviderUnavailableError(`${provider} unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}

/** An answer's body as JSON, or undefined when it is empty or not JSON (a gateway's error page). */
export function jsonOrUndefined<T>(text: string): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * What an answer the provider's own rules did not settle means: 429 and 5xx may succeed later
 * (after the answer's Retry-After), and so may a 2xx without what the provider promises (no
 * message id), since the message may not have been taken; every other status is refused for good.
 */
export function answerError(answer: ProviderAnswer, detail: string): ProviderUnavailableError | ProviderRejectedError {
  return providerError(answer.ok || isRetryableStatus(answer.status), detail, answer.headers.get('retry-after'));
}
