import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PayloadKey } from '../../config/env';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** 24 random bytes, as Standard Webhooks suggests (between 24 and 64). */
const SECRET_BYTES = 24;

/** A new signing secret in the Standard Webhooks format: `whsec_` and base64. Shown to the customer once. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The secret as stored: `<payload key id>:<base64 of IV || ciphertext || GCM tag>`, encrypted
 * with the first payload key (HERALD_PAYLOAD_KEYS), the same keys that encrypt Temporal payloads.
 * Herald must sign with it later, so a hash would not do; a database dump alone does not reveal it.
 */
export function sealWebhookSecret(secret: string, keys: readonly PayloadKey[]): string {
  const key = keys[0];
  if (!key) throw new Error('no payload key to seal a webhook secret with');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key.key, iv, { authTagLength: TAG_BYTES });
  const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${key.id}:${sealed.toString('base64')}`;
}

/** The secret back, with whichever listed key sealed it; throws (without the secret) when that key is gone or the bytes were altered. */
export function openWebhookSecret(stored: string, keys: readonly PayloadKey[]): string {
  const separator = stored.lastIndexOf(':');
  const keyId = stored.slice(0, separator);
  const key = keys.find((candidate) => candidate.id === keyId);
  if (!key)
    throw new Error(`the webhook secret was sealed with payload key "${keyId}", which is not in HERALD_PAYLOAD_KEYS; add it back after the current key`);
  const sealed = Buffer.from(stored.slice(separator + 1), 'base64');
  const decipher = createDecipheriv(CIPHER, key.key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the webhook secret sealed with payload key "${keyId}" failed authentication: the key under that id changed or the row was altered`);
  }
}
