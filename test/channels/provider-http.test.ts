import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRejectedError, ProviderUnavailableError } from '../../src/channels/provider-errors';
import { answerError, callProvider, jsonOrUndefined } from '../../src/channels/provider-http';

describe('a provider call over HTTP, against a real server on loopback', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // `/hang` never answers; `/<status>` answers that status, with `retry-after` from the query.
    server = createServer((req, res) => {
      const { pathname, searchParams } = new URL(req.url ?? '/', 'http://loopback');
      if (pathname === '/hang') return;
      const retryAfter = searchParams.get('retry-after');
      res.writeHead(Number(pathname.slice(1)), { 'content-type': 'application/json', ...(retryAfter !== null && { 'retry-after': retryAfter }) });
      res.end(JSON.stringify({ method: req.method, status: Number(pathname.slice(1)) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The error a provider would throw for the answer to `path`, with no rule of its own. */
  async function errorFor(path: string): Promise<unknown> {
    const answer = await callProvider('Fake', `${url}${path}`, { method: 'POST', body: '{}' }, 2_000);
    return answerError(answer, `Fake ${answer.status}`);
  }

  it('returns every answer whole, whatever its status, with its JSON', async () => {
    const answer = await callProvider('Fake', `${url}/400`, { method: 'POST', body: '{}' }, 2_000);
    expect(answer).toMatchObject({ status: 400, ok: false });
    expect(jsonOrUndefined(answer.text)).toEqual({ method: 'POST', status: 400 });
    expect(jsonOrUndefined('<html>bad gateway</html>')).toBeUndefined();
    expect(jsonOrUndefined('')).toBeUndefined();
  });

  it('gives up on a server that never answers after the timeout, as unavailable', async () => {
    const started = Date.now();
    const error = await callProvider('Fake', `${url}/hang`, { method: 'POST' }, 200).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toMatch(/^Fake unreachable: /);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('treats a refused connection as unavailable, with the network error code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await callProvider('Fake', `http://127.0.0.1:${port}/`, { method: 'POST' }, 2_000).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toMatch(/^Fake unreachable: .*\(ECONNREFUSED\)$/);
  });

  it('retries 429 after its Retry-After, and 5xx', async () => {
    const rateLimited = await errorFor('/429?retry-after=3');
    expect(rateLimited).toBeInstanceOf(ProviderUnavailableError);
    expect(rateLimited).toMatchObject({ message: 'Fake 429', retryAfterMs: 3000 });
    const unavailable = await errorFor('/503');
    expect(unavailable).toBeInstanceOf(ProviderUnavailableError);
    expect((unavailable as ProviderUnavailableError).retryAfterMs).toBeUndefined();
  });

  it('refuses 400 for good', async () => {
    const refused = await errorFor('/400');
    expect(refused).toBeInstanceOf(ProviderRejectedError);
    expect(refused).not.toBeInstanceOf(ProviderUnavailableError);
    expect((refused as Error).message).toBe('Fake 400');
  });

  it('retries a 2xx the provider could not use (no message id in it)', async () => {
    expect(await errorFor('/200')).toBeInstanceOf(ProviderUnavailableError);
  });
});
