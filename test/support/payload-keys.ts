import { randomBytes, randomUUID } from 'node:crypto';

/** A fresh HERALD_PAYLOAD_KEYS value: one random AES-256 key. */
export function randomPayloadKeys(id = `test-${randomUUID().slice(0, 8)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
