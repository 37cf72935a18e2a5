import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A real APNs provider API on loopback, HTTP/2 without TLS (h2c, which Herald's client accepts
 * for an `http://` APNS_BASE_URL): `POST /3/device/{token}`.
 *
 * What it copies from Apple:
 * - token authentication: `authorization: bearer <JWT>`, ES256 with `kid` the key id and `iss`
 *   the team id, `iat` within the last hour; else 403 `InvalidProviderToken` (or
 *   `MissingProviderToken`, `ExpiredProviderToken`).
 * - `apns-topic` must be the bundle id (400 `TopicDisallowed`), `apns-id` a UUID when given (400
 *   `BadMessageId`), `apns-push-type` `alert`, the payload JSON with an `aps` dictionary (400
 *   `PayloadEmpty`), at most 4096 bytes (413 `PayloadTooLarge`); tokens are hex (400 `BadDeviceToken`).
 * - 200 with the `apns-id` header echoed (or a new UUID); errors are `{reason}` JSON, 410
 *   `Unregistered` with `timestamp`, 429 `TooManyRequests`, 500 `InternalServerError`, 503 `ServiceUnavailable`.
 * - `apns-collapse-id`: the device shows one notification per collapse id (a later one replaces it).
 */

export interface FakeApnsFault {
  status?: number;
  reason?: string;
  retryAfterSeconds?: number;
  resetStream?: boolean;
  acceptThenReset?: boolean;
}

export interface FakeApnsRequest {
  receivedAt: number;
  token: string;
  headers: IncomingHttpHeaders;
  payload: any;
  status: number;
}

export interface FakeApnsNotification {
  apnsId: string;
  token: string;
  collapseId?: string;
  payload: any;
}

export interface FakeApns {
  url: string;
  teamId: string;
  keyId: string;
  bundleId: string;
  /** The .p8 key Herald signs with (PKCS#8 PEM). */
  privateKeyPem: string;
  readonly requests: FakeApnsRequest[];
  readonly accepted: FakeApnsNotification[];
  /** What each device shows: one per collapse id. */
  readonly displayed: FakeApnsNotification[];
  requestsTo(token: string): FakeApnsRequest[];
  displayedOn(token: string): FakeApnsNotification[];
  failNext(token: string, faults: FakeApnsFault[]): void;
  /** The app was uninstalled: 410 Unregistered from now on. */
  unregister(token: string): void;
  reset(): void;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function startFakeApns(options: { teamId?: string; keyId?: string; bundleId?: string } = {}): Promise<FakeApns> {
  const teamId = options.teamId ?? 'TEAM123456';
  const keyId = options.keyId ?? 'KEY1234567';
  const bundleId = options.bundleId ?? 'com.example.app';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const requests: FakeApnsRequest[] = [];
  const accepted: FakeApnsNotification[] = [];
  const displayed: FakeApnsNotification[] = [];
  let faults = new Map<string, FakeApnsFault[]>();
  let unregistered = new Set<string>();

  function tokenProblem(authorization: string | undefined): string | undefined {
    const jwt = /^bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!jwt) return 'MissingProviderToken';
    const [header, claims, signature] = jwt.split('.');
    if (!header || !claims || !signature) return 'InvalidProviderToken';
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    const body = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { iss?: string; iat?: number };
    if (head.alg !== 'ES256' || head.kid !== keyId || body.iss !== teamId) return 'InvalidProviderToken';
    if (!verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')))
      return 'InvalidProviderToken';
    if (typeof body.iat !== 'number' || body.iat * 1000 < Date.now() - 3_600_000) return 'ExpiredProviderToken';
    return undefined;
  }

  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    // A stream the fake resets on purpose (resetStream, acceptThenReset) ends in an error here.
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = String(headers[':path'] ?? '');
      const token = decodeURIComponent(/^\/3\/device\/([^/?]+)$/.exec(path)?.[1] ?? '');
      let payload: any;
      try {
        payload = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        payload = undefined;
      }
      const record: FakeApnsRequest = { receivedAt: Date.now(), token, headers, payload, status: 0 };
      requests.push(record);
      const answer = (status: number, reason?: string, extra: Record<string, string> = {}) => {
        record.status = status;
        const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : randomUUID();
        stream.respond({ ':status': status, 'apns-id': apnsId, ...(reason && { 'content-type': 'application/json' }), ...extra });
        stream.end(reason ? JSON.stringify({ reason, ...(status === 410 && { timestamp: Date.now() }) }) : undefined);
      };
      if (headers[':method'] !== 'POST' || !token) return answer(405, 'MethodNotAllowed');
      const fault = faults.get(token)?.shift();
      if (fault && !fault.acceptThenReset) {
        if (fault.resetStream) return stream.close(0x2);
        const status = fault.status ?? 500;
        return answer(
          status,
          fault.reason ??
            (status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : status === 500 ? 'InternalServerError' : 'BadDeviceToken'),
          fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
        );
      }
      const problem = tokenProblem(typeof headers.authorization === 'string' ? headers.authorization : undefined);
      if (problem) return answer(403, problem);
      if (headers['apns-topic'] !== bundleId) return answer(400, 'TopicDisallowed');
      if (headers['apns-id'] !== undefined && !UUID.test(String(headers['apns-id']))) return answer(400, 'BadMessageId');
      if (!/^[0-9a-fA-F]{64,200}$/.test(token)) return answer(400, 'BadDeviceToken');
      if (unregistered.has(token)) return answer(410, 'Unregistered');
      if (raw.length > 4096) return answer(413, 'PayloadTooLarge');
      if (!payload || typeof payload.aps !== 'object') return answer(400, 'PayloadEmpty');
      const collapseId = typeof headers['apns-collapse-id'] === 'string' ? headers['apns-collapse-id'] : undefined;
      const notification: FakeApnsNotification = {
        apnsId: String(headers['apns-id'] ?? randomUUID()),
        token,
        payload,
        ...(collapseId !== undefined && { collapseId }),
      };
      accepted.push(notification);
      const replaced = collapseId === undefined ? -1 : displayed.findIndex((n) => n.token === token && n.collapseId === collapseId);
      if (replaced >= 0) displayed.splice(replaced, 1, notification);
      else displayed.push(notification);
      if (fault?.acceptThenReset) {
        record.status = 200;
        return stream.close(0x2);
      }
      answer(200);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    teamId,
    keyId,
    bundleId,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    requests,
    accepted,
    displayed,
    requestsTo: (token) => requests.filter((r) => r.token === token),
    displayedOn: (token) => displayed.filter((n) => n.token === token),
    failNext(token, newFaults) {
      faults.set(token, [...(faults.get(token) ?? []), ...newFaults]);
    },
    unregister(token) {
      unregistered.add(token);
    },
    reset() {
      faults = new Map();
      unregistered = new Set();
      requests.length = 0;
      accepted.length = 0;
      displayed.length = 0;
    },
    close() {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
