import { listenOnLoopback, readBody } from './loopback-server';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import stringify from 'safe-stable-stringify';

/**
 * A real HTTP server that answers `POST /emails` the way the Resend API does, for tests that
 * drive Herald through the official `resend` SDK (RESEND_BASE_URL=fake.url).
 *
 * What it copies from Resend:
 * - `Authorization: Bearer <key>`: missing => 401 `missing_api_key`, wrong => 403 `invalid_api_key`.
 * - success is 200 `{"id":"<uuid>"}`; errors are `{"statusCode","name","message"}` JSON.
 * - `Idempotency-Key`: the same key with the same payload answers the same id and sends nothing
 *   new; the same key with a different payload is 409 `invalid_idempotent_request`. Only accepted
 *   sends are remembered, so a key whose earlier attempts failed can still be sent.
 * - `from`, `to`, `subject` and one of `html`/`text` are required (422 `missing_required_field`).
 * - 429 carries a `retry-after` header in seconds and the `ratelimit-*` headers.
 *
 * `POST /emails/batch` (strict validation, the SDK's default; `x-batch-validation: permissive` is
 * not modelled) is answered the same way: the body
 * is an array of 1 to 100 emails, each validated as above, and one invalid or rejected email
 * refuses the whole batch (nothing is delivered). Success is 200 `{"data":[{"id"}...]}` in request
 * order. The batch's one `Idempotency-Key` covers the whole array: the same key with the same
 * array answers the same ids and delivers nothing new; with a different array, 409. Each accepted
 * email is recorded as a delivery of its own, carrying the batch key and its `batchIndex`. The
 * fake is stricter than Resend in one respect: `attachments` and `scheduled_at`, which the batch
 * endpoint does not support, are refused (422) instead of ignored. Faults and rejected addresses
 * apply to a batch as to a single send: a fault matches when any email of the batch goes to `to`.
 */

export interface FakeResendFault {
  /** HTTP status to answer; ignored when `dropConnection` is set. */
  status?: number;
  /** Sets the `retry-after` header (seconds), as Resend does on 429. */
  retryAfterSeconds?: number;
  /** Resend error name; defaults to the one Resend uses for `status`. */
  name?: string;
  message?: string;
  /** Answer this raw body instead of Resend's JSON error (e.g. an HTML page from a proxy). */
  rawBody?: string;
  /** Destroy the socket without answering: a network error for the client. */
  dropConnection?: boolean;
  /** Hold the request open without answering or sending: the client's timeout ends it. */
  hold?: boolean;
  /**
   * Accept and remember the message as usual, then destroy the socket instead of answering:
   * the send happened but the client never learnt it, so only the idempotency key prevents a duplicate.
   */
  acceptThenDrop?: boolean;
}

/** Which requests a scripted fault applies to; an empty match applies to any request. */
export interface FakeResendMatch {
  to?: string;
  idempotencyKey?: string;
}

export interface FakeResendRequest {
  /** Date.now() when the request had been read in full. */
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  idempotencyKey?: string;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: any;
  /** What the fake answered; 0 when it dropped the connection. */
  status: number;
  response?: unknown;
}

export interface FakeResendDelivery {
  id: string;
  /** The request's key: for a batch, the batch key, shared by all its emails. */
  idempotencyKey?: string;
  /** Position in its `POST /emails/batch` request; absent for a single send. */
  batchIndex?: number;
  receivedAt: number;
  from: string;
  /** Resend accepts a string or an array; recorded as an array. */
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  tags?: { name: string; value: string }[];
  headers: IncomingHttpHeaders;
  body: any;
}

export interface FakeResend {
  url: string;
  apiKey: string;
  /** Every request, in arrival order, with what the fake answered. */
  readonly requests: FakeResendRequest[];
  /** Accepted messages, one per real send: idempotent repeats are not listed again. */
  readonly deliveries: FakeResendDelivery[];
  /** Accepted deliveries per idempotency key. */
  deliveriesByKey(): Record<string, number>;
  /** Requests that carried this idempotency key. */
  requestsFor(idempotencyKey: string): FakeResendRequest[];
  deliveriesFor(idempotencyKey: string): FakeResendDelivery[];
  /** Accepted deliveries addressed to this recipient, single or batched. */
  deliveriesTo(address: string): FakeResendDelivery[];
  /** Accepted deliveries per recipient address, single or batched. */
  deliveriesByRecipient(): Record<string, number>;
  /** Answers the next matching requests with these faults, in order, before behaving normally. */
  failNext(faults: FakeResendFault[], match?: FakeResendMatch): void;
  /** Always answers `status` (422 by default) for messages to this address. */
  rejectAddress(address: string, status?: number, message?: string): void;
  /** Forgets scripted faults, rejected addresses, records and remembered idempotency keys. */
  reset(): void;
  close(): Promise<void>;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'validation_error',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'concurrent_idempotent_requests',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
  502: 'application_error',
  503: 'application_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  missing_api_key: 'Missing API key in the authorization header. Include the following header Authorization: Bearer YOUR_API_KEY in the request.',
  invalid_api_key: 'API key is invalid',
  not_found: 'The requested endpoint does not exist.',
  method_not_allowed: 'Method is not allowed for the requested path.',
  concurrent_idempotent_requests: 'Same idempotency key used while original request is still in progress.',
  invalid_idempotent_request: 'Same idempotency key used with a different request payload.',
  rate_limit_exceeded:
    'Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.',
  internal_server_error: 'An unexpected error occurred.',
};

/** Resend's limit on `POST /emails/batch`. */
const MAX_BATCH = 100;

function recipientsOf(body: any): string[] {
  const to = body?.to;
  if (typeof to === 'string') return [to];
  if (Array.isArray(to)) return to.filter((value): value is string => typeof value === 'string');
  return [];
}

/** Why an email cannot be sent, in Resend's words (422 `missing_required_field`), or undefined. */
function missingFields(email: any): string | undefined {
  const missing = ['from', 'to', 'subject'].filter(
    (field) => email[field] === undefined || email[field] === '' || (Array.isArray(email[field]) && email[field].length === 0),
  );
  if (email.html === undefined && email.text === undefined && email.react === undefined && email.template === undefined) missing.push('html or text');
  return missing.length > 0 ? `Missing \`${missing.join('`, `')}\` field.` : undefined;
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

function matches(match: FakeResendMatch, to: string[], idempotencyKey: string | undefined): boolean {
  if (match.to !== undefined && !to.includes(match.to)) return false;
  if (match.idempotencyKey !== undefined && match.idempotencyKey !== idempotencyKey) return false;
  return true;
}

export async function startFakeResend(options: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? 're_test_key';
  const requests: FakeResendRequest[] = [];
  const deliveries: FakeResendDelivery[] = [];
  /** Idempotency key => the accepted send it produced, for 24 h in Resend; for the fake's life here. */
  const remembered = new Map<string, { ids: string[]; payloadHash: string }>();
  let faults: { fault: FakeResendFault; match: FakeResendMatch }[] = [];
  let rejected = new Map<string, { status: number; message?: string }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    let body: any = raw;
    let parsedJson = false;
    try {
      body = raw ? JSON.parse(raw) : undefined;
      parsedJson = true;
    } catch {
      // Recorded as text; answered below as a validation error.
    }
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    const record: FakeResendRequest = {
      receivedAt: Date.now(),
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      headers: req.headers,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      body,
      status: 0,
    };
    requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.response = payload;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (
      status: number,
      name = ERROR_NAMES[status] ?? 'application_error',
      message = ERROR_MESSAGES[name] ?? `Error ${status}`,
      headers: Record<string, string> = {},
    ) => send(status, { statusCode: status, name, message }, headers);

    const batch = record.path === '/emails/batch';
    if (record.path !== '/emails' && !batch) return error(404);
    if (record.method !== 'POST') return error(405);

    const authorization = req.headers.authorization;
    if (!authorization || !/^Bearer\s+\S/.test(authorization)) return error(401, 'missing_api_key');
    if (authorization !== `Bearer ${apiKey}`) return error(403, 'invalid_api_key');

    const emails: any[] = batch ? (Array.isArray(body) ? body : []) : [body];
    const to = emails.flatMap(recipientsOf);
    const index = faults.findIndex(({ match }) => matches(match, to, idempotencyKey));
    const fault = index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
    const dropAfterAccepting = fault?.acceptThenDrop === true;
    if (fault && !dropAfterAccepting) {
      // Held: never answered; the socket ends when the client gives up or the fake closes.
      if (fault.hold) return;
      if (fault.dropConnection) {
        req.socket.destroy();
        return;
      }
      const status = fault.status ?? 500;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (status === 429)
        Object.assign(headers, { 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': String(fault.retryAfterSeconds ?? 1) });
      if (fault.rawBody === undefined) return error(status, fault.name, fault.message, headers);
      record.status = status;
      record.response = fault.rawBody;
      res.writeHead(status, { 'content-type': 'text/html', ...headers });
      res.end(fault.rawBody);
      return;
    }

    if (idempotencyKey !== undefined && (idempotencyKey.length < 1 || idempotencyKey.length > 256)) {
      return error(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    }
    if (!parsedJson || (batch ? !Array.isArray(body) : !isObject(body))) {
      return error(422, 'validation_error', batch ? 'The batch must be an array of emails.' : 'Invalid JSON body.');
    }
    if (batch) {
      if (emails.length === 0) return error(422, 'validation_error', 'The batch must contain at least 1 email.');
      if (emails.length > MAX_BATCH) return error(422, 'validation_error', `Too many emails in the batch: the limit is ${MAX_BATCH}, got ${emails.length}.`);
    }
    // Strict validation: the first invalid email refuses the batch, naming its index.
    for (const [position, email] of emails.entries()) {
      const at = batch ? `emails[${position}]: ` : '';
      if (!isObject(email)) return error(422, 'validation_error', `${at}An email must be an object.`);
      if (batch && (email.attachments !== undefined || email.scheduled_at !== undefined)) {
        return error(422, 'validation_error', `${at}\`attachments\` and \`scheduled_at\` are not supported in batch sending.`);
      }
      const missing = missingFields(email);
      if (missing) return error(422, 'missing_required_field', `${at}${missing}`);
    }

    const refusal = to.map((address) => rejected.get(address)).find(Boolean);
    if (refusal) {
      return error(
        refusal.status,
        undefined,
        refusal.message ?? `Invalid \`to\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
      );
    }

    // The endpoint is part of the payload: a key used for a single send cannot answer a batch.
    const payloadHash = createHash('sha256')
      .update(`${record.path} ${stringify(body) ?? ''}`)
      .digest('hex');
    const answer = (ids: string[]) => (batch ? { data: ids.map((id) => ({ id })) } : { id: ids[0]! });
    if (idempotencyKey !== undefined) {
      const previous = remembered.get(idempotencyKey);
      if (previous) {
        if (previous.payloadHash !== payloadHash) return error(409, 'invalid_idempotent_request');
        return send(200, answer(previous.ids));
      }
    }

    const ids = emails.map(() => randomUUID());
    if (idempotencyKey !== undefined) remembered.set(idempotencyKey, { ids, payloadHash });
    for (const [position, email] of emails.entries()) {
      deliveries.push({
        id: ids[position]!,
        ...(idempotencyKey !== undefined && { idempotencyKey }),
        ...(batch && { batchIndex: position }),
        receivedAt: record.receivedAt,
        from: email.from,
        to: recipientsOf(email),
        subject: email.subject,
        ...(email.html !== undefined && { html: email.html }),
        ...(email.text !== undefined && { text: email.text }),
        ...(email.tags !== undefined && { tags: email.tags }),
        headers: req.headers,
        body: email,
      });
    }
    if (dropAfterAccepting) {
      record.response = answer(ids);
      req.socket.destroy();
      return;
    }
    return send(200, answer(ids));
  };

  const { server, url } = await listenOnLoopback(handle, (err) => ({ statusCode: 500, name: 'internal_server_error', message: String(err) }));

  return {
    url,
    apiKey,
    requests,
    deliveries,
    deliveriesByKey() {
      const counts: Record<string, number> = {};
      for (const delivery of deliveries) {
        if (delivery.idempotencyKey !== undefined) counts[delivery.idempotencyKey] = (counts[delivery.idempotencyKey] ?? 0) + 1;
      }
      return counts;
    },
    requestsFor: (idempotencyKey) => requests.filter((r) => r.idempotencyKey === idempotencyKey),
    deliveriesFor: (idempotencyKey) => deliveries.filter((d) => d.idempotencyKey === idempotencyKey),
    deliveriesTo: (address) => deliveries.filter((d) => d.to.includes(address)),
    deliveriesByRecipient() {
      const counts: Record<string, number> = {};
      for (const delivery of deliveries) for (const address of delivery.to) counts[address] = (counts[address] ?? 0) + 1;
      return counts;
    },
    failNext(newFaults, match = {}) {
      faults.push(...newFaults.map((fault) => ({ fault, match })));
    },
    rejectAddress(address, status = 422, message) {
      rejected.set(address, { status, ...(message !== undefined && { message }) });
    },
    reset() {
      faults = [];
      rejected = new Map();
      remembered.clear();
      requests.length = 0;
      deliveries.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
