import { createHash } from 'node:crypto';
import type { PushTarget } from '../../domain/push';
import { ProviderRejectedError } from '../provider-errors';

export interface PushMessage {
  target: PushTarget;
  title: string;
  body: string;
  data?: Record<string, string>;
  deepLink?: string;
  /**
   * Stable per execution, recipient and channel (providerIdempotencyKey). The outbox
   * deduplicates on it; each provider passes what it has derived from it (docs/channels.md, "Push").
   */
  idempotencyKey: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export interface PushProvider {
  readonly name: string;
  /**
   * Resolves with the provider's message id; throws ProviderUnavailableError (retry),
   * PushTokenGoneError (the device token is dead: never retry, forget it) or ProviderRejectedError.
   */
  send(message: PushMessage): Promise<{ messageId: string }>;
}

/** The provider says the token no longer reaches a device (FCM UNREGISTERED, APNs 410, Web Push 404/410). */
export class PushTokenGoneError extends ProviderRejectedError {
  override name = 'PushTokenGone';
}

/**
 * A UUID (version 5 layout: SHA-1 of a namespace and the key) derived from the idempotency key,
 * for providers that want a UUID per message (APNs `apns-id`): the same key gives the same UUID.
 */
export function uuidFromKey(key: string): string {
  const namespace = Buffer.from('6f1c1d8e4a2b4c59a1b2c3d4e5f60718', 'hex'); // Herald's push namespace
  const hash = createHash('sha1').update(namespace).update(key).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A short, header-safe tag derived from the idempotency key: Web Push `Topic` (at most 32 base64url characters), collapse ids. */
export function collapseTagFromKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}
