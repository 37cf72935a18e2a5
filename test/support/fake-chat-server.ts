import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './loopback-server';

/**
 * What the chat fakes (fake-slack.ts, fake-msteams.ts, fake-discord.ts) share: a real HTTP server
 * on 127.0.0.1 that records every request and answers the next ones with the faults it was given
 * (each in the provider's own format), then by the provider's protocol.
 */

/** One fault of a chat provider, answered in its own format. */
export type FakeChatFault =
  /** 429 with Retry-After (in seconds). */
  | { mode: 'rate-limited'; retryAfterSeconds: number }
  /** The provider's own failure: 500 unless `status` says which 5xx. */
  | { mode: 'unavailable'; status?: number }
  /** No answer: the request is held open past the client's timeout (until the fake closes). */
  | { mode: 'timeout' }
  /** A permanent refusal: the provider's answer to a bad destination, token or webhook. */
  | { mode: 'rejected' };

export interface FakeChatRequest {
  receivedAt: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body as JSON, or as text when it is not JSON. */
  body: unknown;
  /** What the fake answered; 0 while held open. */
  status: number;
}

/** An answer: its status, its body (JSON unless a string) and headers. */
export interface FakeChatAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A provider's protocol: its normal answer, and each fault as it answers it. */
export interface FakeChatProtocol {
  answer(request: FakeChatRequest): FakeChatAnswer;
  fault(fault: Exclude<FakeChatFault, { mode: 'timeout' }>, request: FakeChatRequest): FakeChatAnswer;
}

export interface FakeChatServer {
  url: string;
  readonly requests: FakeChatRequest[];
  /** Answers the next requests with these faults, in order, before behaving normally. */
  failNext(faults: FakeChatFault[]): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeChatServer(protocol: FakeChatProtocol): Promise<FakeChatServer> {
  const requests: FakeChatRequest[] = [];
  let faults: FakeChatFault[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: kept as text, and the protocol answers it as the provider would.
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: FakeChatRequest = {
      receivedAt: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      status: 0,
    };
    requests.push(request);
    const fault = faults.shift();
    // Held open: the client gives up at its timeout; close() ends it.
    if (fault?.mode === 'timeout') return;
    const answer = fault ? protocol.fault(fault, request) : protocol.answer(request);
    request.status = answer.status;
    const isText = typeof answer.body === 'string' || answer.body === undefined;
    res.writeHead(answer.status, { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json', ...answer.headers });
    res.end(isText ? (answer.body ?? '') : JSON.stringify(answer.body));
  };

  const { server, url } = await listenOnLoopback(handle, (err) => ({ error: String(err) }));
  return {
    url,
    requests,
    failNext(newFaults) {
      faults.push(...newFaults);
    },
    reset() {
      faults = [];
      requests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** The JSON object a request carried, or an empty one. */
export function jsonBody(request: FakeChatRequest): Record<string, unknown> {
  return request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
}

/** A chat fake that keeps what the provider would deliver, at its webhook's URL. */
export interface FakeChatWebhook<Message> extends FakeChatServer {
  webhookUrl: string;
  /** One per accepted request (no chat provider deduplicates); forgotten with the requests by reset(). */
  readonly messages: Message[];
}

/** The server with its messages and the fake's own fields; reset() forgets the messages too. */
export function keepingMessages<Message, Extra extends { webhookUrl: string }>(
  server: FakeChatServer,
  messages: Message[],
  extra: Extra,
): FakeChatWebhook<Message> & Extra {
  const reset = server.reset;
  return Object.assign(server, extra, {
    messages,
    reset() {
      reset();
      messages.length = 0;
    },
  });
}
