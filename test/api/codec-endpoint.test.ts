import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../../src/temporal-client/payload-codec';
import { randomPayloadKeys, startHerald, type Herald } from '../support/herald-harness';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(payload.data),
});
const fromJson = (json: { metadata?: Record<string, string>; data?: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(json.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(json.data ?? '', 'base64'),
});
const plain = (value: unknown) => toJson(defaultPayloadConverter.toPayload(value)!);
const value = (json: { metadata?: Record<string, string>; data?: string }) => defaultPayloadConverter.fromPayload(fromJson(json));
const encodingOf = (json: { metadata?: Record<string, string> }) => Buffer.from(json.metadata?.encoding ?? '', 'base64').toString();

describe('codec endpoint, encryption on', () => {
  let herald: Herald;
  const keys = randomPayloadKeys('ui-key');
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_PAYLOAD_KEYS: keys } });
  });
  afterAll(() => herald.stop());

  it("encodes and decodes in proto JSON form, in order, and matches the workers' codec", async () => {
    // undefined is binary/null: a payload with no data, which protobufjs decodes to a default field.
    const values = [{ userId: 'ada@example.com', context: { code: '4711' } }, 'second', null, undefined];
    const encoded = await herald.request('POST', '/v1/codec/encode', { payloads: values.map(plain) }, { 'x-namespace': 'default' });
    expect(encoded.status, JSON.stringify(encoded.body)).toBe(200);
    expect(encoded.body.payloads).toHaveLength(4);
    for (const payload of encoded.body.payloads) {
      expect(encodingOf(payload)).toBe('binary/encrypted');
      expect(Buffer.from(payload.metadata['encryption-key-id'], 'base64').toString()).toBe('ui-key');
      expect(Buffer.from(payload.data, 'base64').toString('latin1')).not.toContain('ada@example.com');
    }
    // The same keys in a worker decrypt what the endpoint encrypted, and the other way round.
    const codec = new AesGcmPayloadCodec(herald.config.payloadKeys!);
    expect((await codec.decode(encoded.body.payloads.map(fromJson))).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(values);
    const fromWorker = (await codec.encode([defaultPayloadConverter.toPayload('from a worker')!])).map(toJson);

    const decoded = await herald.request('POST', '/v1/codec/decode', { payloads: [...encoded.body.payloads, ...fromWorker, plain('never encrypted')] });
    expect(decoded.status, JSON.stringify(decoded.body)).toBe(200);
    expect(decoded.headers.get('content-type')).toContain('application/json');
    expect(decoded.body.payloads.map(value)).toEqual([...values, 'from a worker', 'never encrypted']);
    expect(encodingOf(decoded.body.payloads[0])).toBe('json/plain');
  });

  it('accepts payloads without metadata or data, and an empty list, also as proto JSON writes it (no field)', async () => {
    expect((await herald.request('POST', '/v1/codec/decode', { payloads: [] })).body).toEqual({ payloads: [] });
    // The CLI (temporal workflow metadata --codec-endpoint) sends an empty Payloads message as `{}`.
    expect(await herald.request('POST', '/v1/codec/decode', {})).toMatchObject({ status: 200, body: { payloads: [] } });
    const res = await herald.request('POST', '/v1/codec/decode', { payloads: [{}] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payloads: [{ metadata: {}, data: '' }] });
  });

  it("answers the Temporal UI's preflight without authentication, with credentials allowed", async () => {
    for (const origin of [UI_ORIGIN, 'http://localhost:8233']) {
      const res = await fetch(`${herald.baseUrl}/v1/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.split(',').sort()).toEqual(['authorization', 'content-type', 'x-namespace']);
    }
    const post = await herald.request('POST', '/v1/codec/decode', { payloads: [] }, { origin: UI_ORIGIN });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(post.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('refuses other origins: no CORS grant on the preflight, 403 on the call', async () => {
    const preflight = await fetch(`${herald.baseUrl}/v1/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await herald.request('POST', '/v1/codec/decode', { payloads: [] }, { origin: 'https://evil.example' });
    expect(post.status).toBe(403);
    expect(post.body).toMatchObject({ type: 'origin-not-allowed' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('gives bad bodies a 400 problem, never a 500', async () => {
    const cases: Array<[string, unknown, string | RegExp]> = [
      ['malformed JSON', '{"payloads": [', 'malformed-request'],
      ['payloads not a list', { payloads: 'abc' }, 'validation-failed'],
      ['data not base64', { payloads: [{ data: 'not base64!' }] }, 'validation-failed'],
      ['metadata value not a string', { payloads: [{ metadata: { encoding: 5 } }] }, 'validation-failed'],
      ['too many payloads', { payloads: Array.from({ length: 1001 }, () => ({})) }, 'validation-failed'],
    ];
    for (const [what, body, type] of cases) {
      const res = await herald.request('POST', '/v1/codec/decode', body);
      expect(res.status, what).toBe(400);
      expect(res.headers.get('content-type'), what).toContain('application/problem+json');
      expect(res.body.type, what).toMatch(type);
    }
  });

  it('says which payload it cannot decrypt: unknown key id, tampered bytes, not a payload', async () => {
    const stranger = new AesGcmPayloadCodec([{ id: 'someone-else', key: randomBytes(32) }]);
    const [foreign] = (await stranger.encode([defaultPayloadConverter.toPayload('x')!])).map(toJson);
    const unknown = await herald.request('POST', '/v1/codec/decode', { payloads: [plain('ok'), foreign] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ type: 'payload-not-decodable', errors: [{ field: 'payloads.1' }] });
    expect(unknown.body.detail).toContain('"someone-else"');

    const [mine] = (await new AesGcmPayloadCodec(herald.config.payloadKeys!).encode([defaultPayloadConverter.toPayload('x')!])).map(toJson);
    const bytes = Buffer.from(mine!.data, 'base64');
    bytes[15]! ^= 1;
    const tampered = await herald.request('POST', '/v1/codec/decode', { payloads: [{ ...mine, data: bytes.toString('base64') }] });
    expect(tampered.status).toBe(400);
    expect(tampered.body.detail).toMatch(/failed authentication/);
  });

  it('checks X-Namespace when the caller sends it', async () => {
    const res = await herald.request('POST', '/v1/codec/decode', { payloads: [] }, { 'x-namespace': 'someone-elses' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'namespace-mismatch' });
    // The Temporal CLI sends the header empty.
    expect((await herald.request('POST', '/v1/codec/decode', { payloads: [] }, { 'x-namespace': '' })).status).toBe(200);
  });

  it('is documented in the OpenAPI document as full-access only', async () => {
    const doc = (await herald.request('GET', '/openapi.json')).body;
    for (const op of ['encode', 'decode']) {
      expect(doc.paths[`/v1/codec/${op}`].post.security).toEqual([{ bearerAuth: ['full'] }]);
    }
  });
});

describe('codec endpoint, encryption off', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, encryption: false });
  });
  afterAll(() => herald.stop());

  it('returns payloads unchanged, so the UI still shows them', async () => {
    const payloads = [plain({ a: 1 }), plain('text')];
    for (const op of ['decode', 'encode']) {
      const res = await herald.request('POST', `/v1/codec/${op}`, { payloads });
      expect(res.status).toBe(200);
      expect(res.body.payloads).toEqual(payloads);
    }
  });
});

describe('codec endpoint with HERALD_API_KEYS', () => {
  let herald: Herald;
  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: 'codec-test-key' } });
  });
  afterAll(() => herald.stop());

  it('requires a key for encode and decode, but answers the preflight without one', async () => {
    for (const op of ['decode', 'encode']) {
      const anonymous = await herald.request('POST', `/v1/codec/${op}`, { payloads: [] }, { origin: UI_ORIGIN });
      expect(anonymous.status).toBe(401);
      // The browser can read the 401, so the UI shows an authentication error rather than a CORS one.
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect((await herald.request('POST', `/v1/codec/${op}`, { payloads: [] }, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await herald.request('POST', `/v1/codec/${op}`, { payloads: [] }, { authorization: 'Bearer codec-test-key' })).status).toBe(200);
    }
    const preflight = await fetch(`${herald.baseUrl}/v1/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it('refuses a trigger-scoped key: decoding reads personal data, full access only', async () => {
    const created = await herald.request('POST', '/v1/api-keys', { name: 'checkout', scope: 'trigger' }, { authorization: 'Bearer codec-test-key' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await herald.request('POST', '/v1/codec/decode', { payloads: [] }, { authorization: `Bearer ${created.body.key}` });
    expect(res.status).toBe(403);
  });
});
