import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readBodyBytes } from './loopback-server';

/**
 * A real Web Push service (RFC 8030) on loopback: a subscription's endpoint is
 * `{url}/push/{id}`, so Herald reaches it through the subscription itself, with no base URL.
 *
 * What it checks and answers as push services (FCM, Mozilla autopush) do:
 * - `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292): the ES256 JWT must verify with k,
 *   its `aud` must be this origin and `exp` in the future, and k must be the application server
 *   key the subscription was created with, else 403 (401 without the header).
 * - `TTL` required (400 without); `Content-Encoding: aes128gcm`; the body is decrypted with the
 *   subscription's private key and auth secret (RFC 8291), so tests read the plaintext payload.
 * - 201 Created with `Location: {url}/message/{uuid}`.
 * - `Topic`: a message still queued (not yet delivered) with the same topic is replaced, so the
 *   queue holds one; `deliverAll()` hands the queue to the "browser".
 * - modes: 429 with Retry-After, 5xx, a permanent error (400/413), a gone subscription (404 or
 *   410), dropping the connection, and accepting then dropping the connection.
 */

export interface FakeWebPushFault {
  status?: number;
  retryAfterSeconds?: number;
  dropConnection?: boolean;
  acceptThenDrop?: boolean;
}

export interface FakeWebPushRequest {
  receivedAt: number;
  subscriptionId: string;
  headers: IncomingHttpHeaders;
  status: number;
  /** The decrypted payload, when it could be decrypted. */
  payload?: string;
}

export interface FakeWebPushMessage {
  id: string;
  subscriptionId: string;
  topic?: string;
  payload: string;
  receivedAt: number;
}

export interface FakeSubscription {
  id: string;
  /** What the browser's JSON.stringify(subscription) gives: the token Herald stores. */
  json: string;
  endpoint: string;
}

export interface FakeWebPush {
  url: string;
  /** The VAPID key pair of the application server (Herald's configuration names them). */
  vapid: { publicKey: string; privateKey: string; subject: string };
  readonly requests: FakeWebPushRequest[];
  /** Accepted messages still queued at the push service (a Topic replaces a queued one). */
  readonly queued: FakeWebPushMessage[];
  /** Every message the service accepted, replaced or not. */
  readonly accepted: FakeWebPushMessage[];
  subscribe(): FakeSubscription;
  requestsFor(subscriptionId: string): FakeWebPushRequest[];
  queuedFor(subscriptionId: string): FakeWebPushMessage[];
  /** Answers the next requests to this subscription with these faults, in order. */
  failNext(subscriptionId: string, faults: FakeWebPushFault[]): void;
  /** The subscription expired or was unsubscribed: 410 Gone (or 404) from now on. */
  expire(subscriptionId: string, status?: 404 | 410): void;
  reset(): void;
  close(): Promise<void>;
}

const b64u = (buffer: Buffer) => buffer.toString('base64url');
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 aes128gcm decryption with the user agent's key pair and auth secret (one record). */
function decrypt(body: Buffer, uaPrivate: ReturnType<typeof createECDH>, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const asPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const uaPublic = uaPrivate.getPublicKey();
  const ecdhSecret = uaPrivate.computeSecret(asPublic);
  const prkKey = hmac(authSecret, ecdhSecret);
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'binary')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'binary')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record padding delimiter');
  return padded.subarray(0, end).toString('utf8');
}

/** Verifies a VAPID JWT (ES256, raw r||s signature) against the uncompressed P-256 key k. */
function vapidProblem(authorization: string | undefined, origin: string, expectedKey: string): { status: number; reason: string } | undefined {
  if (!authorization) return { status: 401, reason: 'missing Authorization' };
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) return { status: 401, reason: 'not a vapid Authorization' };
  const [, jwt, key] = match as unknown as [string, string, string];
  if (key !== expectedKey) return { status: 403, reason: 'the application server key does not match the subscription' };
  const [header, claims, signature] = jwt.split('.');
  if (!header || !claims || !signature) return { status: 401, reason: 'malformed JWT' };
  const raw = Buffer.from(key, 'base64url');
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33, 65)) }, format: 'jwk' });
  const valid = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!valid) return { status: 403, reason: 'bad JWT signature' };
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { aud?: string; exp?: number; sub?: string };
  if (payload.aud !== origin) return { status: 403, reason: `aud ${payload.aud} is not ${origin}` };
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return { status: 403, reason: 'expired JWT' };
  if (!payload.sub || !/^(mailto:|https:)/.test(payload.sub)) return { status: 403, reason: 'sub must be mailto: or https:' };
  return undefined;
}

export async function startFakeWebPush(): Promise<FakeWebPush> {
  // The application server's VAPID keys, as `web-push generate-vapid-keys` makes them.
  const serverKeys = createECDH('prime256v1');
  serverKeys.generateKeys();
  const vapid = { publicKey: b64u(serverKeys.getPublicKey()), privateKey: b64u(serverKeys.getPrivateKey()), subject: 'mailto:push@example.com' };
  const subscriptions = new Map<string, { ua: ReturnType<typeof createECDH>; auth: Buffer; gone?: 404 | 410 }>();
  const requests: FakeWebPushRequest[] = [];
  const queued: FakeWebPushMessage[] = [];
  const accepted: FakeWebPushMessage[] = [];
  let faults = new Map<string, FakeWebPushFault[]>();
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBodyBytes(req);
    const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const subscriptionId = match?.[1] ?? '';
    const record: FakeWebPushRequest = { receivedAt: Date.now(), subscriptionId, headers: req.headers, status: 0 };
    requests.push(record);
    const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(text);
    };
    if (req.method !== 'POST') return answer(405, 'Method not allowed');
    const subscription = subscriptions.get(subscriptionId);
    if (!subscription) return answer(404, 'No such subscription');

    const fault = faults.get(subscriptionId)?.shift();
    if (fault && !fault.acceptThenDrop) {
      if (fault.dropConnection) {
        req.socket.destroy();
        return;
      }
      const status = fault.status ?? 500;
      return answer(status, `Fault ${status}`, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
    }
    if (subscription.gone) return answer(subscription.gone, subscription.gone === 410 ? 'push subscription has unsubscribed or expired.' : 'Not Found');

    const problem = vapidProblem(req.headers.authorization, origin, vapid.publicKey);
    if (problem) return answer(problem.status, problem.reason);
    if (req.headers.ttl === undefined || !/^\d+$/.test(String(req.headers.ttl))) return answer(400, 'TTL header required');
    if (req.headers['content-encoding'] !== 'aes128gcm') return answer(415, 'Content-Encoding must be aes128gcm');
    if (body.length > 4096) return answer(413, 'Payload Too Large');
    const topic = typeof req.headers.topic === 'string' ? req.headers.topic : undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return answer(400, 'Topic must be at most 32 base64url characters');
    let payload: string;
    try {
      payload = decrypt(body, subscription.ua, subscription.auth);
    } catch (error) {
      return answer(400, `Undecryptable payload: ${(error as Error).message}`);
    }
    record.payload = payload;
    const message: FakeWebPushMessage = { id: randomUUID(), subscriptionId, payload, receivedAt: record.receivedAt, ...(topic !== undefined && { topic }) };
    accepted.push(message);
    // A queued message with the same topic is replaced (RFC 8030 §5.4).
    const replaced = topic === undefined ? -1 : queued.findIndex((m) => m.subscriptionId === subscriptionId && m.topic === topic);
    if (replaced >= 0) queued.splice(replaced, 1, message);
    else queued.push(message);
    if (fault?.acceptThenDrop) {
      record.status = 201;
      req.socket.destroy();
      return;
    }
    answer(201, '', { location: `${origin}/message/${message.id}` });
  };

  const { server, url } = await listenOnLoopback(handle, (err) => String(err));
  origin = url;

  return {
    url,
    vapid,
    requests,
    queued,
    accepted,
    subscribe() {
      const id = randomBytes(12).toString('base64url');
      const ua = createECDH('prime256v1');
      ua.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ua, auth });
      const endpoint = `${url}/push/${id}`;
      return { id, endpoint, json: JSON.stringify({ endpoint, expirationTime: null, keys: { p256dh: b64u(ua.getPublicKey()), auth: b64u(auth) } }) };
    },
    requestsFor: (subscriptionId) => requests.filter((r) => r.subscriptionId === subscriptionId),
    queuedFor: (subscriptionId) => queued.filter((m) => m.subscriptionId === subscriptionId),
    failNext(subscriptionId, newFaults) {
      faults.set(subscriptionId, [...(faults.get(subscriptionId) ?? []), ...newFaults]);
    },
    expire(subscriptionId, status = 410) {
      const subscription = subscriptions.get(subscriptionId);
      if (subscription) subscription.gone = status;
    },
    reset() {
      faults = new Map();
      requests.length = 0;
      queued.length = 0;
      accepted.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
