import { createHash } from 'node:crypto';
import type { Channel } from '../domain/campaign';

/**
 * The key a provider deduplicates a send on. Providers put it in an HTTP header, which must be
 * ASCII and (for Resend) at most 256 characters, whatever the userId holds: so it is a hash of
 * the recipient's identity within the execution, the same on every retry. A campaign step's
 * message (src/domain/campaign-steps.ts) adds its step id: one recipient may get several messages
 * of one channel in one execution, and each is deduplicated on its own.
 */
export function providerIdempotencyKey(executionId: string, userId: string, channel: Channel, sendStepId?: string): string {
  const identity = sendStepId === undefined ? [executionId, userId, channel] : [executionId, userId, channel, sendStepId];
  return `herald-${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
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

/**
 * The key a provider deduplicates one batch of an execution's sends on (Resend's `POST /emails/batch`
 * takes one key for the whole call). `batchIndex` numbers the execution's batches from 0 and must
 * always name the same recipients in the same order: the provider answers a repeated key with the
 * first call's ids, and refuses it (409) when the payload differs. Execution ids are ULIDs, so the
 * key stays readable in the provider's logs (`herald-batch/<executionId>/<n>`); one a header could
 * not carry is hashed instead, which cannot collide with the readable form (`-` after `batch`).
 */
export function batchIdempotencyKey(executionId: string, batchIndex: number): string {
  if (!Number.isSafeInteger(batchIndex) || batchIndex < 0) throw new Error(`A batch index is a whole number from 0, not ${batchIndex}`);
  const readable = `herald-batch/${executionId}/${batchIndex}`;
  return HEADER_SAFE.test(readable)
    ? readable
    : `herald-batch-${createHash('sha256')
        .update(JSON.stringify([executionId, batchIndex]))
        .digest('hex')}`;
}
