import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { Channel } from './campaign';

/** What an erased person's suppressed address is stored as: never a valid email, E.164 number or push token. */
export const KEYED_PREFIX = 'hmac-sha256:';
/** The same without a key, for a deployment that has no HERALD_TRACKING_SECRET (weaker; see docs/privacy.md). */
export const UNKEYED_PREFIX = 'sha256:';

/** Whether a stored suppression address is a hash left by an erasure, not an address. */
export const isHashedAddress = (stored: string) => stored.startsWith(KEYED_PREFIX) || stored.startsWith(UNKEYED_PREFIX);

/** HKDF's `info`: the key is used for this and nothing else, though it comes from the tracking secret. */
const KEY_PURPOSE = 'herald/suppressed-address-hash/v1';

/**
 * Hashes of suppressed addresses, so that an erased person's address stays suppressed without
 * being stored. The key is derived with HKDF-SHA256 from HERALD_TRACKING_SECRET, the one secret
 * both the API (which erases) and the worker (which checks at send time) always have when
 * tracking is configured; deriving keeps the tracking tokens' HMAC key and this one apart. Every
 * listed secret is tried when matching, so rotating the tracking secret (`new,old`) keeps erased
 * addresses suppressed while the old secret stays listed. `secrets` is read at each call: the
 * worker's configuration object is shared and may be updated in place.
 */
export class AddressHasher {
  constructor(private readonly secrets: () => readonly string[]) {}

  /** The stored form for an erased suppression: keyed with the first secret, else unkeyed. */
  hash(channel: Channel, normalisedAddress: string): string {
    const [first] = this.secrets();
    return first === undefined ? unkeyed(channel, normalisedAddress) : keyed(deriveKey(first), channel, normalisedAddress);
  }

  /** Every stored form the address may have been erased to: one per listed secret, and the unkeyed one. */
  candidates(channel: Channel, normalisedAddress: string): string[] {
    return [...this.secrets().map((secret) => keyed(deriveKey(secret), channel, normalisedAddress)), unkeyed(channel, normalisedAddress)];
  }
}

/** No secret at all: only the unkeyed form matches. */
export const UNKEYED_HASHER = new AddressHasher(() => []);

const derivedKeys = new Map<string, Buffer>();
function deriveKey(secret: string): Buffer {
  let key = derivedKeys.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), KEY_PURPOSE, 32));
    derivedKeys.set(secret, key);
  }
  return key;
}

// The channel is hashed along: the same string on two channels gives two hashes.
const keyed = (key: Buffer, channel: Channel, address: string) =>
  KEYED_PREFIX + createHmac('sha256', key).update(`${channel}\u0000${address}`, 'utf8').digest('base64url');
const unkeyed = (channel: Channel, address: string) =>
  UNKEYED_PREFIX + createHash('sha256').update(`${KEY_PURPOSE}\u0000${channel}\u0000${address}`, 'utf8').digest('base64url');
