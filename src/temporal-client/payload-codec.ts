import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKey } from '../config/env';

/** Temporal's convention (see its encryption samples): the encoding names the scheme, a second key names the key. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENCRYPTED_ENCODING_BYTES = Buffer.from(ENCRYPTED_ENCODING);

/** A payload that cannot be decrypted: unknown key id, missing metadata, altered bytes or the wrong key. */
export class PayloadDecryptionError extends ValueError {
  override name = 'PayloadDecryptionError';
}

// A default import: under plain Node ESM the CommonJS package has no named `temporal` export.
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** Bytes as protobufjs hands them out: a Buffer, or a plain array for a field left at its default. */
function asBytes(bytes: Uint8Array | ArrayLike<number> | null | undefined): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes ?? []);
}

/** A zero-copy Buffer view: protobufjs copies Buffers in one call but Uint8Arrays byte by byte. */
function bufferView(bytes: Uint8Array | ArrayLike<number>): Buffer {
  const u8 = asBytes(bytes);
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * Random IVs from a pool filled 4 KB at a time: one call into the CSPRNG per 341 payloads instead of
 * one per payload. Every IV is still fresh random bytes, used once.
 */
const ivPool = { bytes: Buffer.alloc(IV_BYTES * 341), next: IV_BYTES * 341 };
function nextIv(): Buffer {
  if (ivPool.next + IV_BYTES > ivPool.bytes.length) {
    randomFillSync(ivPool.bytes);
    ivPool.next = 0;
  }
  // A copy: the pool is overwritten on the next refill.
  const iv = Buffer.from(ivPool.bytes.subarray(ivPool.next, ivPool.next + IV_BYTES));
  ivPool.next += IV_BYTES;
  return iv;
}

function utf8(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(asBytes(bytes)).toString('utf8') : undefined;
}

/** True when the payload carries `encoding: binary/encrypted`. */
export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && encoding !== null && Buffer.compare(asBytes(encoding), ENCRYPTED_ENCODING_BYTES) === 0;
}

/**
 * AES-256-GCM over the whole serialized payload (its metadata included, so not even the original
 * encoding is visible). The stored payload is
 *
 *   metadata: { encoding: "binary/encrypted", encryption-key-id: "<id>" }
 *   data:     12-byte random IV || ciphertext || 16-byte GCM tag
 *
 * The first key encrypts; any listed key decrypts, chosen by the id the payload names. To rotate,
 * put a new key first and keep the old ones after it for as long as histories they wrote are kept.
 * Payloads without `binary/encrypted` (written before encryption was turned on) pass through decode
 * unchanged.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  private readonly encryptWith: { id: string; idBytes: Uint8Array; key: Buffer };

  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new ValueError('AesGcmPayloadCodec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new ValueError(`payload key "${id}" must be ${KEY_BYTES} bytes, not ${key.length}`);
      if (this.keys.has(id)) throw new ValueError(`payload key id "${id}" is listed twice`);
      this.keys.set(id, Buffer.from(key));
    }
    const first = keys[0]!;
    this.encryptWith = { id: first.id, idBytes: Buffer.from(first.id), key: this.keys.get(first.id)! };
  }

  /** The id new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.encryptWith.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    const plaintext = ProtoPayload.encode({
      ...payload,
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, bufferView(value ?? [])])),
      data: bufferView(payload.data ?? []),
    }).finish();
    const iv = nextIv();
    const cipher = createCipheriv(CIPHER, this.encryptWith.key, iv, { authTagLength: TAG_BYTES });
    const data = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: ENCRYPTED_ENCODING_BYTES, [METADATA_ENCRYPTION_KEY_ID]: this.encryptWith.idBytes },
      data,
    };
  }

  decrypt(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyId = utf8(payload.metadata?.[METADATA_ENCRYPTION_KEY_ID]);
    if (keyId === undefined) throw new PayloadDecryptionError(`an ${ENCRYPTED_ENCODING} payload has no ${METADATA_ENCRYPTION_KEY_ID} metadata`);
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload was encrypted with key id "${keyId}", which is not in HERALD_PAYLOAD_KEYS (known: ${[...this.keys.keys()].join(', ')}); add that key after the current one to read it`,
      );
    }
    const data = asBytes(payload.data);
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`payload encrypted with key id "${keyId}" is too short (${data.length} bytes) to be AES-GCM`);
    const iv = data.subarray(0, IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${keyId}" failed authentication: its bytes were altered or the key under that id changed`,
      );
    }
    return ProtoPayload.decode(plaintext);
  }
}
