import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './loopback-server';

/**
 * A real FCM HTTP v1 on loopback: Google's OAuth2 token endpoint and `messages:send`, for tests
 * that point Herald at it with FCM_BASE_URL and a service account whose `token_uri` is `{url}/token`.
 *
 * What it copies from Google:
 * - `POST /token`, form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`:
 *   the RS256 assertion must verify with the service account's key, have `iss` its client_email,
 *   the firebase.messaging `scope` and an `exp` in the future; it answers
 *   `{access_token, expires_in, token_type: "Bearer"}`, else 400 `{error: "invalid_grant"}`.
 * - `POST /v1/projects/{projectId}/messages:send` with `Authorization: Bearer <access token>`
 *   (401 UNAUTHENTICATED otherwise; 403 PERMISSION_DENIED for another project), a JSON
 *   `{message: {token, notification, data, android, apns, webpush}}`; data values must be strings
 *   (400 INVALID_ARGUMENT). Success is 200 `{name: "projects/{id}/messages/0:…"}`.
 * - errors are `{error: {code, message, status, details: [{"@type": "…FcmError", errorCode}]}}`:
 *   an unregistered token is 404 UNREGISTERED; 429 QUOTA_EXCEEDED carries Retry-After; 503 UNAVAILABLE.
 * - `android.collapse_key`: a queued, undelivered message with the same key is replaced.
 */

export interface FakeFcmFault {
  status?: number;
  errorCode?: string;
  retryAfterSeconds?: number;
  dropConnection?: boolean;
  acceptThenDrop?: boolean;
}

export interface FakeFcmRequest {
  receivedAt: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  status: number;
}

export interface FakeFcmMessage {
  name: string;
  token: string;
  collapseKey?: string;
  message: any;
}

export interface FakeFcm {
  url: string;
  projectId: string;
  /** The key file Firebase downloads, with `token_uri` at this fake. */
  serviceAccountJson: string;
  readonly tokenRequests: { receivedAt: number; status: number }[];
  readonly requests: FakeFcmRequest[];
  readonly accepted: FakeFcmMessage[];
  readonly queued: FakeFcmMessage[];
  requestsTo(token: string): FakeFcmRequest[];
  queuedTo(token: string): FakeFcmMessage[];
  failNext(token: string, faults: FakeFcmFault[]): void;
  /** The app was uninstalled: 404 UNREGISTERED from now on. */
  unregister(token: string): void;
  /** Answers the next token requests with this status (500 by default). */
  failTokenEndpoint(count: number, status?: number): void;
  reset(): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const DEFAULT_CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'SENDER_ID_MISMATCH',
  404: 'UNREGISTERED',
  429: 'QUOTA_EXCEEDED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export async function startFakeFcm(options: { projectId?: string } = {}): Promise<FakeFcm> {
  const projectId = options.projectId ?? 'herald-test-app';
  const clientEmail = `herald-sender@${projectId}.iam.gserviceaccount.com`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifyKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const accessTokens = new Set<string>();
  const tokenRequests: { receivedAt: number; status: number }[] = [];
  const requests: FakeFcmRequest[] = [];
  const accepted: FakeFcmMessage[] = [];
  const queued: FakeFcmMessage[] = [];
  let faults = new Map<string, FakeFcmFault[]>();
  let unregistered = new Set<string>();
  let tokenFailures: number[] = [];
  let counter = 0;

  const json = (res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(payload));
  };
  const fcmError = (status: number, errorCode: string | undefined, message: string) => ({
    error: {
      code: status,
      message,
      status: STATUS_NAMES[status] ?? 'UNKNOWN',
      ...(errorCode && { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] }),
    },
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === '/token') {
      const record = { receivedAt: Date.now(), status: 0 };
      tokenRequests.push(record);
      const failure = tokenFailures.shift();
      if (failure !== undefined) {
        record.status = failure;
        return json(res, failure, { error: failure >= 500 ? 'internal_failure' : 'invalid_grant', error_description: 'Fault' });
      }
      const form = new URLSearchParams(raw);
      const assertion = form.get('assertion') ?? '';
      const [header, claims, signature] = assertion.split('.');
      const ok =
        form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
        header !== undefined &&
        claims !== undefined &&
        signature !== undefined &&
        verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), verifyKey, Buffer.from(signature, 'base64url'));
      const payload = ok ? (JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8')) as { iss?: string; scope?: string; exp?: number }) : undefined;
      if (!payload || payload.iss !== clientEmail || !String(payload.scope).includes('firebase.messaging') || (payload.exp ?? 0) * 1000 < Date.now()) {
        record.status = 400;
        return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
      accessTokens.add(accessToken);
      record.status = 200;
      return json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
    }

    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const record: FakeFcmRequest = { receivedAt: Date.now(), path, headers: req.headers, body, status: 0 };
    requests.push(record);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      json(res, status, payload, headers);
    };
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (!match || req.method !== 'POST') return answer(404, fcmError(404, undefined, 'Not found'));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !accessTokens.has(bearer)) return answer(401, fcmError(401, 'THIRD_PARTY_AUTH_ERROR', 'Request had invalid authentication credentials.'));
    if (decodeURIComponent(match[1]!) !== projectId) return answer(403, fcmError(403, 'SENDER_ID_MISMATCH', 'Permission denied on the project.'));
    const message = body?.message;
    const token: string | undefined = message?.token;
    if (typeof token !== 'string' || !token) return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'Recipient of the message is not set.'));

    const fault = faults.get(token)?.shift();
    if (fault && !fault.acceptThenDrop) {
      if (fault.dropConnection) {
        req.socket.destroy();
        return;
      }
      const status = fault.status ?? 500;
      return answer(
        status,
        fcmError(status, fault.errorCode ?? DEFAULT_CODES[status], `Fault ${status}`),
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      );
    }
    if (unregistered.has(token)) return answer(404, fcmError(404, 'UNREGISTERED', 'Requested entity was not found.'));
    if (message.data && Object.values(message.data).some((value) => typeof value !== 'string'))
      return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'Invalid value at message.data: strings only.'));

    const name = `projects/${projectId}/messages/0:${Date.now()}${String(++counter).padStart(6, '0')}`;
    const collapseKey: string | undefined = message.android?.collapse_key;
    const stored: FakeFcmMessage = { name, token, message, ...(collapseKey !== undefined && { collapseKey }) };
    accepted.push(stored);
    const replaced = collapseKey === undefined ? -1 : queued.findIndex((m) => m.token === token && m.collapseKey === collapseKey);
    if (replaced >= 0) queued.splice(replaced, 1, stored);
    else queued.push(stored);
    if (fault?.acceptThenDrop) {
      record.status = 200;
      req.socket.destroy();
      return;
    }
    answer(200, { name });
  };

  const { server, url } = await listenOnLoopback(handle, (err) => fcmError(500, 'INTERNAL', String(err)));
  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${url}/token`,
  });

  return {
    url,
    projectId,
    serviceAccountJson,
    tokenRequests,
    requests,
    accepted,
    queued,
    requestsTo: (token) => requests.filter((r) => r.body?.message?.token === token),
    queuedTo: (token) => queued.filter((m) => m.token === token),
    failNext(token, newFaults) {
      faults.set(token, [...(faults.get(token) ?? []), ...newFaults]);
    },
    unregister(token) {
      unregistered.add(token);
    },
    failTokenEndpoint(count, status = 500) {
      tokenFailures.push(...Array.from({ length: count }, () => status));
    },
    reset() {
      faults = new Map();
      unregistered = new Set();
      tokenFailures = [];
      requests.length = 0;
      accepted.length = 0;
      queued.length = 0;
      tokenRequests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
