import { headerSafeIdempotencyKey } from '../provider-idempotency-key';

/**
 * The header a receiver (or a support engineer) deduplicates Herald's email on, where the
 * provider itself has no idempotency key (SMTP, SES): every attempt at one message carries the
 * same value, so the second copy a lost answer causes is recognisably the first one again.
 */
export const IDEMPOTENCY_HEADER = 'X-Herald-Idempotency-Key';

/** The message's headers with the idempotency header added last, so no configured header can replace it. */
export function withIdempotencyHeader(headers: Record<string, string> | undefined, idempotencyKey: string): Record<string, string> {
  return { ...headers, [IDEMPOTENCY_HEADER]: headerSafeIdempotencyKey(idempotencyKey) };
}
