import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ENCRYPTED_ENCODING, METADATA_ENCRYPTION_KEY_ID, AesGcmPayloadCodec, PayloadDecryptionError } from '../../src/temporal-client/payload-codec';
import { heraldDataConverter } from '../../src/temporal-client/data-converter';
import { loadConfig } from '../../src/config/env';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const secret = { userId: 'ada@example.com', context: { code: '4711' }, html: '<p>Hi Ada</p>' };
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;

describe('AesGcmPayloadCodec', () => {
  it('round-trips payloads, metadata included, and leaves nothing readable', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const original = [payloadOf(secret), payloadOf('ada@example.com'), payloadOf(undefined), payloadOf(new Uint8Array([1, 2, 3]))];
    const encoded = await codec.encode(original);
    for (const payload of encoded) {
      expect(Object.keys(payload.metadata!).sort()).toEqual([METADATA_ENCODING_KEY, METADATA_ENCRYPTION_KEY_ID].sort());
      expect(text(payload.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('k1');
      // Whole values only: ciphertext is random bytes, and a three-letter string turns up in it
      // about once in a hundred thousand runs (it did, in CI).
      expect(text(payload.data)).not.toMatch(/ada@example\.com|"4711"|<p>Hi Ada<\/p>|json\/plain|binary\/null/);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([secret, 'ada@example.com', undefined, new Uint8Array([1, 2, 3])]);
    expect(text(decoded[0]!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
  });

  it('uses a fresh IV per payload: the same value encrypts differently every time', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [a, b] = await codec.encode([payloadOf(secret), payloadOf(secret)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
  });

  it('rotates keys: a payload from an old key decrypts once a new key is put first, and new payloads use the new key', async () => {
    const old = key('2025');
    const [fromOld] = await new AesGcmPayloadCodec([old]).encode([payloadOf(secret)]);
    const rotated = new AesGcmPayloadCodec([key('2026'), old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([fromOld!]))[0]!)).toEqual(secret);
    const [fromNew] = await rotated.encode([payloadOf(secret)]);
    expect(text(fromNew!.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('2026');
  });

  it('fails clearly on an unknown key id, naming the id but no key material', async () => {
    const [payload] = await new AesGcmPayloadCodec([key('retired')]).encode([payloadOf(secret)]);
    const current = key('current');
    const decoding = new AesGcmPayloadCodec([current]).decode([payload!]);
    await expect(decoding).rejects.toBeInstanceOf(PayloadDecryptionError);
    await expect(decoding).rejects.toThrow(/key id "retired", which is not in HERALD_PAYLOAD_KEYS \(known: current\)/);
    await decoding.catch((error: Error) => expect(error.message).not.toContain(current.key.toString('base64')));
  });

  it('refuses tampered ciphertext, a tampered tag, a truncated payload and a changed key under the same id', async () => {
    const k = key('k1');
    const codec = new AesGcmPayloadCodec([k]);
    const [payload] = await codec.encode([payloadOf(secret)]);
    const flip = (at: number) => {
      const data = Buffer.from(payload!.data!);
      data[at < 0 ? data.length + at : at]! ^= 0x01;
      return { ...payload!, data };
    };
    await expect(codec.decode([flip(20)])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([flip(-1)])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([flip(0)])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([{ ...payload!, data: Buffer.from(payload!.data!).subarray(0, 20) }])).rejects.toThrow(/too short/);
    await expect(new AesGcmPayloadCodec([key('k1')]).decode([payload!])).rejects.toThrow(/failed authentication/);
    const { [METADATA_ENCRYPTION_KEY_ID]: _, ...withoutKeyId } = payload!.metadata!;
    await expect(codec.decode([{ ...payload!, metadata: withoutKeyId }])).rejects.toThrow(/no encryption-key-id/);
  });

  it('passes unencrypted payloads through decode (histories from before encryption stay readable)', async () => {
    const plain = payloadOf(secret);
    expect(await new AesGcmPayloadCodec([key('k1')]).decode([plain])).toEqual([plain]);
  });

  it('rejects bad key lists', () => {
    expect(() => new AesGcmPayloadCodec([])).toThrow(/at least one key/);
    expect(() => new AesGcmPayloadCodec([{ id: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
  });
});

describe('heraldDataConverter', () => {
  it('is the default converter without keys, and the codec plus encoded failures with them', () => {
    expect(heraldDataConverter(undefined)).toEqual({});
    expect(heraldDataConverter(loadConfig({}).payloadKeys)).toEqual({});
    const converter = heraldDataConverter(loadConfig({ HERALD_PAYLOAD_KEYS: `a:${randomBytes(32).toString('base64')}` }).payloadKeys);
    expect(converter.payloadCodecs).toHaveLength(1);
    expect(converter.failureConverterPath).toMatch(/encoded-failure-converter\.cjs$/);
  });
});
