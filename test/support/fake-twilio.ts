import { listenOnLoopback, readBody } from './loopback-server';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A real HTTP server that answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` the way
 * Twilio's Programmable Messaging API does, for tests that point Herald at it with TWILIO_BASE_URL.
 *
 * What it copies from Twilio:
 * - basic auth with the account SID and auth token: missing or wrong => 401, code 20003; another
 *   account's SID in the path => 404, code 20404.
 * - a form-encoded body (`To`, `From` or `MessagingServiceSid`, `Body`); success is 201 with the
 *   message resource JSON (`sid` "SM…", `status` "queued" or "accepted", `to`, `from`, `body`, …).
 * - WhatsApp: `whatsapp:`-prefixed To and From, and a template as `ContentSid` (and
 *   `ContentVariables`) instead of `Body`.
 * - errors are `{code, message, more_info, status}` JSON: 21604 (no To), 21602 (no Body), 21603 (no
 *   From), 21211 (To is not a valid number), 21617 (Body over 1600 characters).
 * - 429 (code 20429) carries `Retry-After` in seconds.
 * - no idempotency: every accepted request is a new message, as with Twilio.
 */

export interface FakeTwilioFault {
  /** HTTP status to answer (500 by default); ignored with `dropConnection` or `acceptThenDrop`. */
  status?: number;
  retryAfterSeconds?: number;
  code?: number;
  message?: string;
  /** Destroy the socket without answering and without creating a message. */
  dropConnection?: boolean;
  /** Create the message, then destroy the socket: the client never learns it was sent. */
  acceptThenDrop?: boolean;
  /** Hold the request open without answering or creating a message: the client's timeout ends it. */
  hold?: boolean;
}

export interface FakeTwilioRequest {
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
  /** What the fake answered; 0 when it dropped the connection. */
  status: number;
  response?: unknown;
}

export interface FakeTwilioMessage {
  sid: string;
  receivedAt: number;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  readonly requests: FakeTwilioRequest[];
  /** Messages Twilio would deliver, one per accepted request. */
  readonly messages: FakeTwilioMessage[];
  requestsTo(to: string): FakeTwilioRequest[];
  messagesTo(to: string): FakeTwilioMessage[];
  /** Answers the next requests (to `to`, if given) with these faults, in order, before behaving normally. */
  failNext(faults: FakeTwilioFault[], match?: { to?: string }): void;
  /** Always refuses messages to this number (400 21211 by default). */
  rejectNumber(to: string, status?: number, code?: number, message?: string): void;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  21211: "The 'To' number is not a valid phone number.",
  21602: 'Message body is required.',
  21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
  21604: "A 'To' phone number is required.",
  21617: 'The concatenated message body exceeds the 1600 character limit.',
};
const CODE_FOR_STATUS: Record<number, number> = { 401: 20003, 404: 20404, 429: 20429, 500: 20500, 502: 20500, 503: 20500 };

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export async function startFakeTwilio(options: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${'0'.repeat(31)}1`;
  const authToken = options.authToken ?? 'twilio-test-token';
  const requests: FakeTwilioRequest[] = [];
  const messages: FakeTwilioMessage[] = [];
  let faults: { fault: FakeTwilioFault; to?: string }[] = [];
  let rejected = new Map<string, { status: number; code: number; message?: string }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const form = Object.fromEntries(new URLSearchParams(raw));
    const path = (req.url ?? '').split('?')[0] ?? '';
    const record: FakeTwilioRequest = { receivedAt: Date.now(), method: req.method ?? '', path, headers: req.headers, form, status: 0 };
    requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.response = payload;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (
      status: number,
      code = CODE_FOR_STATUS[status] ?? 20500,
      message = ERROR_MESSAGES[code] ?? `Error ${status}`,
      headers: Record<string, string> = {},
    ) => send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match) return error(404, 20404);
    if (record.method !== 'POST') return error(405, 20004, 'Method not allowed');
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return error(401, 20003);
    if (decodeURIComponent(match[1]!) !== accountSid) return error(404, 20404);

    const to = form.To;
    const index = faults.findIndex((f) => f.to === undefined || f.to === to);
    const fault = index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
    if (fault && !fault.acceptThenDrop) {
      // Held: never answered; the socket ends when the client gives up or the fake closes.
      if (fault.hold) return;
      if (fault.dropConnection) {
        req.socket.destroy();
        return;
      }
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return error(status, fault.code, fault.message, headers);
    }

    if (!to) return error(400, 21604);
    // A WhatsApp template is ContentSid and ContentVariables, without a Body.
    if ((form.Body === undefined || form.Body === '') && !form.ContentSid) return error(400, 21602);
    if (!form.From && !form.MessagingServiceSid) return error(400, 21603);
    if (!/^(whatsapp:)?\+[1-9]\d{1,14}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if ((form.Body ?? '').length > 1600) return error(400, 21617);
    const refusal = rejected.get(to);
    if (refusal) return error(refusal.status, refusal.code, refusal.message ?? `The 'To' number ${to} is not a valid phone number.`);

    const message: FakeTwilioMessage = {
      sid: sid('SM'),
      receivedAt: record.receivedAt,
      to,
      ...(form.From && { from: form.From }),
      ...(form.MessagingServiceSid && { messagingServiceSid: form.MessagingServiceSid }),
      body: form.Body ?? '',
    };
    messages.push(message);
    const now = new Date().toUTCString();
    const resource = {
      sid: message.sid,
      account_sid: accountSid,
      to,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      body: form.Body ?? null,
      status: form.MessagingServiceSid ? 'accepted' : 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      date_sent: null,
      error_code: null,
      error_message: null,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
    };
    if (fault?.acceptThenDrop) {
      record.response = resource;
      req.socket.destroy();
      return;
    }
    return send(201, resource);
  };

  const { server, url } = await listenOnLoopback(handle, (err) => ({ code: 20500, message: String(err), status: 500 }));

  return {
    url,
    accountSid,
    authToken,
    requests,
    messages,
    requestsTo: (to) => requests.filter((r) => r.form.To === to),
    messagesTo: (to) => messages.filter((m) => m.to === to),
    failNext(newFaults, match = {}) {
      faults.push(...newFaults.map((fault) => ({ fault, ...(match.to !== undefined && { to: match.to }) })));
    },
    rejectNumber(to, status = 400, code = 21211, message) {
      rejected.set(to, { status, code, ...(message !== undefined && { message }) });
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
