import { listenOnLoopback, readBody } from './loopback-server';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A real HTTP server that answers `POST /{version}/{phone-number-id}/messages` the way WhatsApp's
 * Cloud API (the Graph API) does, for tests that point Herald at it with META_WHATSAPP_BASE_URL.
 *
 * What it copies from Meta:
 * - `Authorization: Bearer <token>`: missing or wrong => 401, code 190 (OAuthException); another
 *   phone number id in the path => 400, code 100.
 * - a JSON body `{messaging_product: "whatsapp", to, type}` with `text: {body}` or `template: {name,
 *   language: {code}, components}`; success is 200 `{messaging_product, contacts: [{input, wa_id}],
 *   messages: [{id: "wamid…"}]}`.
 * - errors are `{error: {message, type, code, error_subcode?, fbtrace_id}}`: 100 (a bad parameter),
 *   131026 (undeliverable), 132001 (no such template), 130429 (throughput, with HTTP 429 and Retry-After).
 * - no idempotency: every accepted request is a new message, as with Meta.
 */

export interface FakeMetaWhatsAppFault {
  /** HTTP status to answer (500 by default); ignored with `dropConnection` or `hold`. */
  status?: number;
  retryAfterSeconds?: number;
  /** Graph API error code (by status: 190, 100, 130429, 2 by default). */
  code?: number;
  message?: string;
  /** Destroy the socket without answering. */
  dropConnection?: boolean;
  /** Hold the request open, never answering (until the client gives up or the fake closes): a timeout. */
  hold?: boolean;
}

export interface FakeMetaWhatsAppRequest {
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** What the fake answered; 0 when it dropped or held the connection. */
  status: number;
  response?: unknown;
}

export interface FakeMetaWhatsAppMessage {
  id: string;
  to: string;
  type: 'text' | 'template';
  body?: string;
  template?: { name: string; language: string; parameters: string[] };
}

export interface FakeMetaWhatsApp {
  url: string;
  phoneNumberId: string;
  accessToken: string;
  readonly requests: FakeMetaWhatsAppRequest[];
  /** Messages WhatsApp would deliver, one per accepted request. */
  readonly messages: FakeMetaWhatsAppMessage[];
  messagesTo(to: string): FakeMetaWhatsAppMessage[];
  /** Answers the next requests with these faults, in order, before behaving normally. */
  failNext(faults: FakeMetaWhatsAppFault[]): void;
  /** Always refuses messages to this number (400, 131026 by default). */
  rejectNumber(to: string, code?: number, message?: string): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_CODE: Record<number, number> = { 400: 100, 401: 190, 404: 100, 429: 130429 };
const ERROR_TYPES: Record<number, string> = { 190: 'OAuthException', 100: 'OAuthException' };
const ERROR_MESSAGES: Record<number, string> = {
  2: 'Service temporarily unavailable',
  100: 'Invalid parameter',
  190: 'Invalid OAuth access token - Cannot parse access token',
  130429: 'Rate limit hit',
  131026: 'Message Undeliverable',
  132001: 'Template name does not exist in the translation',
};

const wamid = () => `wamid.${randomBytes(24).toString('base64url')}`;

export async function startFakeMetaWhatsApp(
  options: { phoneNumberId?: string; accessToken?: string; knownTemplates?: string[] } = {},
): Promise<FakeMetaWhatsApp> {
  const phoneNumberId = options.phoneNumberId ?? '106540352242922';
  const accessToken = options.accessToken ?? 'meta-test-token';
  const requests: FakeMetaWhatsAppRequest[] = [];
  const messages: FakeMetaWhatsAppMessage[] = [];
  const held = new Set<ServerResponse>();
  let faults: FakeMetaWhatsAppFault[] = [];
  let rejected = new Map<string, { code: number; message?: string }>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    let body: any = raw;
    try {
      body = JSON.parse(raw);
    } catch {}
    const path = (req.url ?? '').split('?')[0] ?? '';
    const record: FakeMetaWhatsAppRequest = { receivedAt: Date.now(), method: req.method ?? '', path, headers: req.headers, body, status: 0 };
    requests.push(record);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.response = payload;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (
      status: number,
      code = DEFAULT_CODE[status] ?? 2,
      message = ERROR_MESSAGES[code] ?? `Error ${status}`,
      headers: Record<string, string> = {},
    ) => send(status, { error: { message, type: ERROR_TYPES[code] ?? 'OAuthException', code, fbtrace_id: randomBytes(8).toString('hex') } }, headers);

    const match = /^\/(v\d+\.\d+)\/([^/]+)\/messages$/.exec(path);
    if (!match || record.method !== 'POST') return error(404, 100, 'Unsupported post request');
    if (req.headers.authorization !== `Bearer ${accessToken}`) return error(401, 190);
    if (decodeURIComponent(match[2]!) !== phoneNumberId) return error(400, 100, `Unsupported post request. Object with ID '${match[2]}' does not exist`);

    const fault = faults.shift();
    if (fault?.hold) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault?.dropConnection) {
      req.socket.destroy();
      return;
    }
    if (fault) {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return error(status, fault.code, fault.message, headers);
    }

    if (typeof body !== 'object' || body === null || body.messaging_product !== 'whatsapp')
      return error(400, 100, 'The parameter messaging_product is required.');
    const to = typeof body.to === 'string' ? body.to : '';
    if (!/^\+?[1-9]\d{1,14}$/.test(to)) return error(400, 100, 'Invalid parameter: to');
    let message: FakeMetaWhatsAppMessage;
    if (body.type === 'text' && typeof body.text?.body === 'string' && body.text.body !== '') {
      message = { id: wamid(), to, type: 'text', body: body.text.body };
    } else if (body.type === 'template' && typeof body.template?.name === 'string' && typeof body.template?.language?.code === 'string') {
      if (options.knownTemplates && !options.knownTemplates.includes(body.template.name)) return error(404, 132001);
      const parameters = (body.template.components ?? []).flatMap((component: any) => (component.parameters ?? []).map((parameter: any) => parameter.text));
      message = { id: wamid(), to, type: 'template', template: { name: body.template.name, language: body.template.language.code, parameters } };
    } else {
      return error(400, 100, 'Invalid parameter: a text body or a template is required');
    }
    const refusal = rejected.get(to);
    if (refusal) return error(400, refusal.code, refusal.message);
    messages.push(message);
    return send(200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }], messages: [{ id: message.id }] });
  };

  const { server, url } = await listenOnLoopback(handle, (err) => ({ error: { message: String(err), type: 'OAuthException', code: 2 } }));

  return {
    url,
    phoneNumberId,
    accessToken,
    requests,
    messages,
    messagesTo: (to) => messages.filter((m) => m.to === to),
    failNext(newFaults) {
      faults.push(...newFaults);
    },
    rejectNumber(to, code = 131026, message) {
      rejected.set(to, { code, ...(message !== undefined && { message }) });
    },
    reset() {
      faults = [];
      rejected = new Map();
      requests.length = 0;
      messages.length = 0;
    },
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
