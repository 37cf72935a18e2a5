import { listenOnLoopback, readBody } from './loopback-server';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A real HTTP server that answers Amazon SES v2's `POST /v2/email/outbound-emails` (SendEmail), for
 * tests that point an `ses` channel configuration at it (`endpoint`: fake.url) and drive it through
 * the official `@aws-sdk/client-sesv2`.
 *
 * What it copies from SES:
 * - a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/ses/aws4_request, …`):
 *   missing => 403 `MissingAuthenticationTokenException`, another access key id =>
 *   403 `UnrecognizedClientException`. The signature itself is not verified.
 * - a JSON body with `FromEmailAddress`, `Destination.ToAddresses` and `Content.Simple` (400
 *   `BadRequestException` otherwise); success is 200 `{"MessageId": "…"}`.
 * - errors carry their name in `x-amzn-ErrorType` and `{"message"}` as the body, as restJson1 does;
 *   429 `TooManyRequestsException` carries `Retry-After` (seconds) when scripted.
 * - no idempotency: every accepted request is a new message, as with SES.
 *
 * Modes: a scripted status (429, 5xx, any 4xx), a request held unanswered past the client's
 * timeout, a connection dropped before or after the message was taken (the lost answer), and
 * recipients refused for good (400 `MessageRejected`).
 */

export interface FakeSesFault {
  /** HTTP status to answer (500 by default); ignored with `hold`, `dropConnection` or `acceptThenDrop`. */
  status?: number;
  retryAfterSeconds?: number;
  /** The error name in `x-amzn-ErrorType`; defaults to SES's for `status`. */
  name?: string;
  message?: string;
  /** Never answer: the client's timeout ends the attempt, and nothing is sent. */
  hold?: boolean;
  /** Destroy the socket without answering and without taking the message. */
  dropConnection?: boolean;
  /** Take the message, then destroy the socket: the client never learns it was sent. */
  acceptThenDrop?: boolean;
}

export interface FakeSesRequest {
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** What the fake answered; 0 when it dropped or held the request. */
  status: number;
}

export interface FakeSesMessage {
  messageId: string;
  receivedAt: number;
  from: string;
  to: string[];
  replyTo?: string[];
  subject: string;
  html?: string;
  text?: string;
  /** `Content.Simple.Headers`, by name. */
  headers: Record<string, string>;
  configurationSet?: string;
  tags: { Name: string; Value: string }[];
}

export interface FakeSes {
  url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  readonly requests: FakeSesRequest[];
  /** Messages SES would send, one per accepted request. */
  readonly messages: FakeSesMessage[];
  requestsTo(address: string): FakeSesRequest[];
  messagesTo(address: string): FakeSesMessage[];
  /** Answers the next requests (to `to`, if given) with these faults, in order, before behaving normally. */
  failNext(faults: FakeSesFault[], match?: { to?: string }): void;
  /** Always refuses messages to this address (400 MessageRejected by default). */
  rejectAddress(address: string, status?: number, name?: string, message?: string): void;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'BadRequestException',
  403: 'UnrecognizedClientException',
  404: 'NotFoundException',
  429: 'TooManyRequestsException',
  500: 'InternalFailure',
  503: 'ServiceUnavailable',
};

const recipientsOf = (body: any): string[] => (Array.isArray(body?.Destination?.ToAddresses) ? body.Destination.ToAddresses : []);

export async function startFakeSes(options: { region?: string; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<FakeSes> {
  const region = options.region ?? 'eu-west-1';
  const accessKeyId = options.accessKeyId ?? 'AKIAFAKESES000000001';
  const secretAccessKey = options.secretAccessKey ?? 'fake-ses-secret-access-key';
  const requests: FakeSesRequest[] = [];
  const messages: FakeSesMessage[] = [];
  let faults: { fault: FakeSesFault; to?: string }[] = [];
  let rejected = new Map<string, { status: number; name: string; message?: string }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    let body: any = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Recorded as text; answered below as a bad request.
    }
    const record: FakeSesRequest = {
      receivedAt: Date.now(),
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      headers: req.headers,
      body,
      status: 0,
    };
    requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, name = ERROR_NAMES[status] ?? 'InternalFailure', message = `Error ${status}`, headers: Record<string, string> = {}) =>
      send(status, { message }, { 'x-amzn-errortype': name, ...headers });

    if (record.path !== '/v2/email/outbound-emails') return error(404, 'NotFoundException', 'Unknown operation');
    if (record.method !== 'POST') return error(405, 'MethodNotAllowedException', 'Method not allowed');
    const authorization = req.headers.authorization ?? '';
    if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) return error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
    if (!scope || scope[1] !== accessKeyId) return error(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (scope[2] !== region || scope[3] !== 'ses')
      return error(403, 'InvalidSignatureException', `Credential should be scoped to a valid region and to ses, not ${scope[2]}/${scope[3]}`);

    const to = recipientsOf(body);
    const index = faults.findIndex((f) => f.to === undefined || to.includes(f.to));
    const fault = index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
    if (fault?.hold) return; // never answered: the client gives up
    if (fault?.dropConnection) return req.socket.destroy();
    if (fault && !fault.acceptThenDrop) {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return error(status, fault.name, fault.message, headers);
    }

    const simple = body?.Content?.Simple;
    if (typeof body?.FromEmailAddress !== 'string' || to.length === 0 || !simple?.Subject?.Data || !simple?.Body)
      return error(400, 'BadRequestException', 'FromEmailAddress, Destination.ToAddresses and Content.Simple are required');
    const refusal = to.map((address) => rejected.get(address)).find(Boolean);
    if (refusal)
      return error(
        refusal.status,
        refusal.name,
        refusal.message ?? `Email address is not verified. The following identities failed the check: ${to.join(', ')}`,
      );

    const message: FakeSesMessage = {
      messageId: `0100${randomUUID().replaceAll('-', '')}-000000`,
      receivedAt: record.receivedAt,
      from: body.FromEmailAddress,
      to,
      ...(Array.isArray(body.ReplyToAddresses) && { replyTo: body.ReplyToAddresses }),
      subject: simple.Subject.Data,
      ...(simple.Body.Html?.Data !== undefined && { html: simple.Body.Html.Data }),
      ...(simple.Body.Text?.Data !== undefined && { text: simple.Body.Text.Data }),
      headers: Object.fromEntries(((simple.Headers ?? []) as { Name: string; Value: string }[]).map((h) => [h.Name, h.Value])),
      ...(body.ConfigurationSetName !== undefined && { configurationSet: body.ConfigurationSetName }),
      tags: body.EmailTags ?? [],
    };
    messages.push(message);
    if (fault?.acceptThenDrop) return req.socket.destroy();
    return send(200, { MessageId: message.messageId });
  };

  const { server, url } = await listenOnLoopback(handle, (err) => ({ message: String(err) }));

  return {
    url,
    region,
    accessKeyId,
    secretAccessKey,
    requests,
    messages,
    requestsTo: (address) => requests.filter((r) => recipientsOf(r.body).includes(address)),
    messagesTo: (address) => messages.filter((m) => m.to.includes(address)),
    failNext(newFaults, match = {}) {
      faults.push(...newFaults.map((fault) => ({ fault, ...(match.to !== undefined && { to: match.to }) })));
    },
    rejectAddress(address, status = 400, name = 'MessageRejected', message) {
      rejected.set(address, { status, name, ...(message !== undefined && { message }) });
    },
    reset() {
      faults = [];
      rejected = new Map();
      requests.length = 0;
      messages.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
