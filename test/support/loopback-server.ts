import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A provider fake's HTTP server on 127.0.0.1 and a free port. A handler that throws answers 500
 * with `internalError(err)` as the body, in the provider's own error format.
 */
export async function listenOnLoopback(handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>, internalError: (err: unknown) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(internalError(err)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
