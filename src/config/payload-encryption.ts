import { z } from 'zod';
import type { TemporalVariables } from './temporal';
import { optionalString } from './zod-helpers';

/** `id:base64key[,id:base64key...]`: AES-256 keys for the payload codec, the first one encrypts. */
const PAYLOAD_KEY_ENTRY = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/]{43}=)$/;
const payloadKeys = optionalString.superRefine((value, ctx) => {
  if (value === undefined) return;
  const entries = value.split(',').map((entry) => entry.trim());
  const ids = new Set<string>();
  for (const entry of entries) {
    const match = PAYLOAD_KEY_ENTRY.exec(entry);
    if (!match || Buffer.from(match[2]!, 'base64').length !== 32) {
      // Never echo the entry: it is a secret.
      ctx.addIssue({
        code: 'custom',
        message: 'HERALD_PAYLOAD_KEYS must look like key-2026:<32 random bytes in base64>[,older-id:<base64>...]; create a key with `openssl rand -base64 32`',
      });
      return;
    }
    if (ids.has(match[1]!)) ctx.addIssue({ code: 'custom', message: `HERALD_PAYLOAD_KEYS names key id "${match[1]}" twice; every key needs its own id` });
    ids.add(match[1]!);
  }
});

/** Encryption of Temporal payloads, and the Temporal UIs allowed to decode them through the codec endpoint. */
export const payloadEncryptionVariables = z.object({
  HERALD_PAYLOAD_KEYS: payloadKeys,
  HERALD_CODEC_CORS_ORIGINS: optionalString,
});

export type PayloadEncryptionVariables = z.infer<typeof payloadEncryptionVariables>;

export interface PayloadKey {
  id: string;
  /** 32 bytes of AES-256 key material. Never logged. */
  key: Buffer;
}

export interface PayloadEncryptionConfig {
  /** AES-256-GCM payload encryption for Temporal; undefined when HERALD_PAYLOAD_KEYS is unset. The first key encrypts. */
  payloadKeys?: PayloadKey[];
  /** The Temporal UI origins allowed to call the codec endpoint. */
  codec: { corsOrigins: string[] };
}

/** The codec's default origins are the embedded Temporal UI's, on TEMPORAL_UI_PORT. */
export function payloadEncryptionConfig(e: PayloadEncryptionVariables & Pick<TemporalVariables, 'TEMPORAL_UI_PORT'>): PayloadEncryptionConfig {
  return {
    ...(e.HERALD_PAYLOAD_KEYS && { payloadKeys: parsePayloadKeys(e.HERALD_PAYLOAD_KEYS) }),
    codec: {
      corsOrigins: e.HERALD_CODEC_CORS_ORIGINS
        ? e.HERALD_CODEC_CORS_ORIGINS.split(',')
            .map((origin) => origin.trim())
            .filter(Boolean)
        : [`http://127.0.0.1:${e.TEMPORAL_UI_PORT}`, `http://localhost:${e.TEMPORAL_UI_PORT}`],
    },
  };
}

function parsePayloadKeys(value: string): PayloadKey[] {
  return value.split(',').map((entry) => {
    const [id, key] = entry.trim().split(':') as [string, string];
    return { id, key: Buffer.from(key, 'base64') };
  });
}
