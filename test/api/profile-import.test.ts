import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, withKey, type Requester } from '../support/api-keys';
import { startHerald, type Herald } from '../support/herald-harness';

const BOOT = 'import-bootstrap-key';
const MAX_LINE_BYTES = 1024;
const ndjson = (...lines: unknown[]) => lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');

describe('bulk profile import (POST /v1/profiles/import)', () => {
  let herald: Herald;
  let full: Requester;
  const importBody = (body: string, contentType = 'application/x-ndjson') => full('POST', '/v1/profiles/import', body, { 'content-type': contentType });
  const profile = async (namespace: string, userId: string) => (await full('GET', `/v1/profiles/${namespace}/${encodeURIComponent(userId)}`)).body;

  /** Sends `chunks` as a streamed request body (chunked transfer encoding), pausing `pauseMs` between chunks. */
  async function streamImport(chunks: Iterable<Uint8Array>, pauseMs = 0) {
    const iterator = chunks[Symbol.iterator]();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = iterator.next();
        if (next.done) return controller.close();
        if (pauseMs > 0) await sleep(pauseMs);
        controller.enqueue(next.value);
      },
    });
    const response = await fetch(`${herald.baseUrl}/v1/profiles/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOT}`, 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit);
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    herald = await startHerald({ withoutWorker: true, env: { HERALD_API_KEYS: BOOT, HERALD_IMPORT_MAX_LINE_BYTES: String(MAX_LINE_BYTES) } });
    full = withKey(herald, BOOT);
  });
  afterAll(() => herald.stop());

  it('creates and updates profiles as PUT does: attributes replaced, consents merged, locale canonicalised, set, cleared or kept', async () => {
    expect((await full('PUT', '/v1/profiles/crm/old-1', { attributes: { plan: 'free', gone: true }, consents: { email: 'in' }, locale: 'fr' })).status).toBe(
      201,
    );
    expect((await full('PUT', '/v1/profiles/crm/old-2', { attributes: { plan: 'free' }, locale: 'de' })).status).toBe(201);

    const res = await importBody(
      ndjson(
        { namespace: 'crm', userId: 'old-1', attributes: { plan: 'pro' }, consents: { sms: 'in' } },
        { namespace: 'crm', userId: 'new-1', attributes: { firstName: 'Ada', nested: { a: [1, 2] } }, consents: { email: 'out' }, locale: 'pt-br' },
        { namespace: 'crm', userId: 'old-2', attributes: { plan: 'team' }, locale: null },
        { namespace: 'email', userId: 'grace@example.com', attributes: {} },
      ) + '\n',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 4, created: 2, updated: 2, rejected: 0, errors: [] });

    // Attributes replaced (gone is gone), consents merged, locale kept when absent.
    expect(await profile('crm', 'old-1')).toMatchObject({
      attributes: { plan: 'pro' },
      consents: { email: 'in', sms: 'in' },
      locale: 'fr',
      autoCreated: false,
    });
    expect(await profile('crm', 'new-1')).toMatchObject({
      attributes: { firstName: 'Ada', nested: { a: [1, 2] } },
      consents: { email: 'out' },
      locale: 'pt-BR',
      autoCreated: false,
    });
    expect(await profile('crm', 'old-2')).toMatchObject({ attributes: { plan: 'team' }, consents: {}, locale: null });
    expect(await profile('email', 'grace@example.com')).toMatchObject({ attributes: {}, consents: {}, locale: null });
  });

  it('applies a userId given twice in one batch in order: the later line wins, consents of both merge, counted created then updated', async () => {
    const res = await importBody(
      ndjson(
        { namespace: 'crm', userId: 'twice', attributes: { v: 1 }, consents: { email: 'in' }, locale: 'es' },
        { namespace: 'crm', userId: 'twice', attributes: { v: 2 }, consents: { push: 'out' } },
        { namespace: 'crm', userId: 'twice-existing', attributes: { v: 1 } },
      ),
    );
    expect(res.body).toMatchObject({ received: 3, created: 2, updated: 1, rejected: 0 });
    expect(await profile('crm', 'twice')).toMatchObject({ attributes: { v: 2 }, consents: { email: 'in', push: 'out' }, locale: 'es' });

    const again = await importBody(
      ndjson(
        { namespace: 'crm', userId: 'twice-existing', attributes: { v: 2 } },
        { namespace: 'crm', userId: 'twice-existing', attributes: { v: 3 }, locale: 'it' },
      ),
    );
    expect(again.body).toMatchObject({ received: 2, created: 0, updated: 2 });
    expect(await profile('crm', 'twice-existing')).toMatchObject({ attributes: { v: 3 }, locale: 'it' });
  });

  it('skips bad lines, naming their 1-based line numbers, and imports the rest; blank lines are skipped and counted as lines', async () => {
    const lines = [
      { namespace: 'bad', userId: 'ok-1', attributes: { n: 1 } }, // 1
      '{"namespace": "bad", "userId": "broken", ', // 2: not JSON
      '', // 3: blank
      { namespace: 'bad', userId: 'ok-2', attributes: 'nope' }, // 4: schema
      { namespace: 'bad', userId: 'ok-3', attributes: {}, consents: { email: 'maybe' } }, // 5: schema
      { namespace: 'bad', userId: 'ok-4', attributes: {}, locale: 'not a locale!' }, // 6: locale
      { namespace: 'bad', userId: 'ok-5', attributes: { big: 'x'.repeat(MAX_LINE_BYTES) } }, // 7: too long
      '   ', // 8: blank
      { namespace: 'bad', attributes: {} }, // 9: no userId
      { namespace: 'bad', userId: 'ok-6', attributes: {}, extra: 1 }, // 10: unknown key
      '42', // 11: not an object
      { namespace: 'bad', userId: 'ok-7', attributes: { 'a\u0000': 1 } }, // 12: unstorable text
      { namespace: 'bad', userId: 'ok-8', attributes: { n: 8 } }, // 13
    ];
    const res = await importBody(ndjson(...lines).replaceAll('\n', '\r\n'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 11, created: 2, updated: 0, rejected: 9 });
    expect(res.body.errorsTruncated).toBeUndefined();
    expect(res.body.errors.map((e: { line: number }) => e.line)).toEqual([2, 4, 5, 6, 7, 9, 10, 11, 12]);
    const reason = (line: number) => res.body.errors.find((e: { line: number }) => e.line === line).reason as string;
    expect(reason(2)).toMatch(/not a JSON value/);
    expect(reason(4)).toMatch(/^attributes: /);
    expect(reason(5)).toMatch(/^consents\.email: /);
    expect(reason(6)).toMatch(/^locale: .*BCP 47/);
    expect(reason(7)).toMatch(/longer than 1024 bytes/);
    expect(reason(9)).toMatch(/^userId: /);
    expect(reason(10)).toMatch(/extra/);
    expect(reason(11)).toMatch(/^\(line\): /);
    expect(reason(12)).toMatch(/U\+0000/);
    expect(await profile('bad', 'ok-1')).toMatchObject({ attributes: { n: 1 } });
    expect(await profile('bad', 'ok-8')).toMatchObject({ attributes: { n: 8 } });
    expect((await full('GET', '/v1/profiles/bad/ok-2')).status).toBe(404);
    expect((await full('GET', '/v1/profiles/bad/ok-5')).status).toBe(404);
  });

  it('lists the first 1000 errors and says when there were more', async () => {
    const res = await importBody(
      Array.from({ length: 1003 }, (_, i) => `not json ${i}`).join('\n') + `\n${JSON.stringify({ namespace: 'many', userId: 'last', attributes: {} })}`,
    );
    expect(res.body).toMatchObject({ received: 1004, created: 1, rejected: 1003, errorsTruncated: true });
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors[999].line).toBe(1000);
  });

  it('streams a chunked body of 20,000 lines in pieces that split lines and UTF-8 characters, over several batches', async () => {
    const count = 20_000;
    const text = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ namespace: 'stream', userId: `user-${i}`, attributes: { i, name: `Zoë ${i} 日本` }, ...(i % 2 === 0 && { consents: { email: 'in' } }) }),
    ).join('\n');
    const bytes = new TextEncoder().encode(text);
    function* pieces() {
      // 4093 bytes: a prime, so the cuts land everywhere, inside lines and inside multibyte characters.
      for (let offset = 0; offset < bytes.length; offset += 4093) yield bytes.subarray(offset, offset + 4093);
    }
    const res = await streamImport(pieces());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: count, created: count, updated: 0, rejected: 0, errors: [] });
    const stored = await herald.db
      .selectFrom('profiles')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('namespace', '=', 'stream')
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(count);
    expect(await profile('stream', 'user-12345')).toMatchObject({ attributes: { i: 12345, name: 'Zoë 12345 日本' }, consents: {} });
    expect(await profile('stream', 'user-19998')).toMatchObject({ attributes: { i: 19998 }, consents: { email: 'in' } });
  });

  it('answers 413 past HERALD_IMPORT_MAX_BYTES, with what it imported before the limit and the first line it did not read', async () => {
    const limit = herald.config.profileImport.maxBytes;
    herald.config.profileImport.maxBytes = 4096;
    try {
      const first = new TextEncoder().encode(
        Array.from({ length: 10 }, (_, i) => JSON.stringify({ namespace: 'capped', userId: `u-${i}`, attributes: {} })).join('\n') + '\n',
      );
      const rest = new TextEncoder().encode(
        Array.from({ length: 200 }, (_, i) => JSON.stringify({ namespace: 'capped', userId: `v-${i}`, attributes: {} })).join('\n'),
      );
      expect(first.length).toBeLessThan(4096);
      const res = await streamImport([first, rest], 100);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body).toMatchObject({
        type: 'payload-too-large',
        status: 413,
        summary: { received: 10, created: 10, updated: 0, rejected: 0, errors: [{ line: 11 }] },
      });
      expect(res.body.summary.errors[0].reason).toMatch(/4096 bytes.*not read/);
      expect(await profile('capped', 'u-9')).toMatchObject({ namespace: 'capped' });
      expect((await full('GET', '/v1/profiles/capped/v-0')).status).toBe(404);
    } finally {
      herald.config.profileImport.maxBytes = limit;
    }
  });

  it('refuses another content type with 415, and a trigger key with 403', async () => {
    const line = ndjson({ namespace: 'scope', userId: 'u', attributes: {} });
    const json = await importBody(line, 'application/json');
    expect(json.status).toBe(415);
    expect(json.headers.get('content-type')).toMatch(/problem\+json/);
    expect(json.body.type).toBe('unsupported-media-type');
    expect((await importBody(line, 'text/plain')).status).toBe(415);
    expect((await full('POST', '/v1/profiles/import', undefined, {})).status).toBe(415);

    const jsonl = await importBody(line, 'application/jsonl; charset=utf-8');
    expect(jsonl.body).toMatchObject({ received: 1, created: 1 });

    const triggerKey = withKey(herald, (await createApiKey(full, { scope: 'trigger' })).key);
    const denied = await triggerKey('POST', '/v1/profiles/import', ndjson({ namespace: 'scope', userId: 'denied', attributes: {} }), {
      'content-type': 'application/x-ndjson',
    });
    expect(denied.status).toBe(403);
    expect((await full('GET', '/v1/profiles/scope/denied')).status).toBe(404);
  });

  it('records one audit entry per import, with the counts and no profile in it', async () => {
    const res = await importBody(
      ndjson({ namespace: 'audit', userId: 'secret@example.com', attributes: { firstName: 'Secret' } }, 'oops', {
        namespace: 'audit',
        userId: 'b',
        attributes: {},
      }),
    );
    expect(res.body).toMatchObject({ received: 3, created: 2, rejected: 1 });
    const entries = (await full('GET', '/v1/audit-log?resourceType=profile&limit=100')).body.items as Array<{
      action: string;
      resourceId: string;
      after?: unknown;
    }>;
    expect(entries.filter((e) => e.action === 'profile.created' || e.action === 'profile.updated').map((e) => e.resourceId)).not.toContain('audit/b');
    const [latest] = entries.filter((e) => e.action === 'profile.imported');
    expect(latest).toMatchObject({ resourceId: 'import', after: { received: 3, created: 2, updated: 0, rejected: 1 } });
    expect(JSON.stringify(latest)).not.toContain('secret@example.com');
    expect(JSON.stringify(latest)).not.toContain('Secret');
  });

  it('appears in the OpenAPI document with an NDJSON body and the summary as its answer', async () => {
    const doc = (await full('GET', '/openapi.json')).body;
    const operation = doc.paths['/v1/profiles/import'].post;
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/x-ndjson', 'application/jsonl']);
    expect(operation.requestBody.content['application/x-ndjson'].schema).toMatchObject({ type: 'string' });
    expect(operation.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ProfileImportSummary' });
    expect(operation.security).toEqual([{ bearerAuth: ['full'] }]);
    expect(doc.components.schemas.ProfileImportLine.required).toEqual(expect.arrayContaining(['namespace', 'userId', 'attributes']));
  });
});
