import { createHash } from 'node:crypto';
import type { Channel } from '../domain/campaign';

/**
 * The key a provider deduplicates a send on. Providers put it in an HTTP header, which must be
 * ASCII and (for Resend) at most 256 characters, whatever the userId holds: so it is a hash of
 * the recipient's identity within the execution, the same on every retry.
 */
export function providerIdempotencyKey(executionId: string, userId: string, channel: Channel): string {
  return `herald-${createHash('sha256').update(JSON.stringify([executionId, userId, channel])).digest('hex')}`;
}

const HEADER_SAFE = /^[\x21-\x7E]{1,255}$/;

/**
 * Executions started before keys were hashed pass `<executionId>/<userId>/email` from their
 * history. Such a key is kept when a header can carry it, so those sends still deduplicate
 * against their earlier attempts; one that cannot (a userId beyond ASCII) would never be
 * accepted, so hashing it loses nothing.
 */
export function headerSafeIdempotencyKey(key: string): string {
  return HEADER_SAFE.test(key) ? key : `herald-${createHash('sha256').update(key).digest('hex')}`;
}
