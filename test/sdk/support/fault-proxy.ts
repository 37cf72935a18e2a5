import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real loopback HTTP server in front of a real Herald API, for the client's tests: it passes
 * every call through unchanged, records what the client sent, and can make chosen calls fail the
 * way the network and the server do: an answer of its own (503 or 429 with Retry-After), a
 * connection cut before anything reached the API, or a connection cut after the API answered
 * (the answer is lost). While the API is down it cuts the client's connection, as a dead
 * server's port would.
 */
export interface RecordedCall {
  method: string;
  path: string;
  /** The request body as sent (parsed JSON when it is JSON). */
  body: any;
  /** Date.now() when the proxy received it. */
  at: number;
}

export type Fault =
  | { kind: 'answer'; status: number; headers?: Record<string, string> }
  | { kind: 'cut-before' }
  | {
      kind: 'lose-answer' /** Runs with the API's answer, before the client's connection is cut. */;
      then?: (answer: { status: number; body: any }) => Promise<void>;
    };

export interface FaultProxy {
  baseUrl: string;
  /** Every call that reached the proxy, in order. */
  calls: RecordedCall[];
  callsTo(method: string, path: string): RecordedCall[];
  /** The next `times` calls of `method` on `path` meet `fault` instead of the API. */
  inject(method: string, path: string, fault: Fault, times?: number): void;
  /** Drops the faults not met yet. */
  clearFaults(): void;
  close(): Promise<void>;
}

interface Injection {
  method: string;
  path: string;
  fault: Fault;
  left: number;
}

export async function startFaultProxy(targetBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl);
  const calls: RecordedCall[] = [];
  const injections: Injection[] = [];

  const server = createServer(async (req, res) => {
    const at = Date.now();
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    calls.push({ method: req.method ?? 'GET', path, body: parseBody(raw), at });
    const injection = injections.find((i) => i.left > 0 && i.method === req.method && i.path === path);
    if (injection) injection.left -= 1;
    const fault = injection?.fault;

    if (fault?.kind === 'answer') {
      const body = JSON.stringify({ type: 'about:blank', title: 'Injected by the test proxy', status: fault.status });
      res.writeHead(fault.status, { 'content-type': 'application/problem+json', ...fault.headers });
      res.end(body);
      return;
    }
    if (fault?.kind === 'cut-before') {
      req.socket.destroy();
      return;
    }
    try {
      const answer = await forward(target, req, raw);
      if (fault?.kind === 'lose-answer') {
        await fault.then?.({ status: answer.status, body: parseBody(answer.body) });
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      // The API is not there (refused, or died mid-call): the client sees its connection cut.
      req.socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (method, path) => calls.filter((call) => call.method === method && call.path === path),
    inject(method, path, fault, times = 1) {
      injections.push({ method, path, fault, left: times });
    },
    clearFaults() {
      injections.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host };
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (response) => {
      readBody(response).then((data) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          // The body is passed whole, so the framing is the proxy's own.
          if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') out[name] = value;
        }
        resolve({ status: response.statusCode ?? 502, headers: out, body: data });
      }, reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function parseBody(raw: Buffer): any {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
