import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { importPKCS8, SignJWT } from 'jose';
import { isRetryableStatus, ProviderRejectedError, ProviderUnavailableError, providerError } from '../provider-errors';
import { jsonOrUndefined } from '../provider-http';
import { collapseTagFromKey, PushTokenGoneError, uuidFromKey, type PushMessage, type PushProvider } from './push-provider';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';
/** Apple refuses provider tokens older than an hour and refreshing more than every 20 minutes: one lives 40. */
const TOKEN_LIFETIME_MS = 40 * 60 * 1000;

export interface ApnsCredentials {
  teamId: string;
  keyId: string;
  bundleId: string;
  /** The .p8 key (PKCS#8 PEM, P-256). A secret. */
  privateKey: string;
}

/**
 * Apple Push Notification service, HTTP/2 with token authentication: `POST /3/device/{token}`
 * on one HTTP/2 session per base URL (Node's http2 client), `authorization: bearer <JWT>` (ES256
 * provider token signed with the team's .p8 key by `jose`, `kid` the key id, `iss` the team id,
 * reused 40 minutes), `apns-topic` the bundle id, `apns-push-type: alert`, and the payload
 * `{aps: {alert: {title, body}}, ...data, deepLink?}`. APNS_BASE_URL overrides the host (tests use
 * an h2c fake on `http://127.0.0.1`).
 *
 * 200 carries `apns-id`, the delivery's message id. 410 (`Unregistered`) means the token is gone
 * (PushTokenGoneError); 429, 5xx, network errors and 403 `ExpiredProviderToken` (a fresh token
 * is signed) are retryable; every other 4xx (400 `BadDeviceToken`, `DeviceTokenNotForTopic`) is a
 * refusal.
 *
 * Idempotency: `apns-id` is a UUID derived from the provider idempotency key, so every attempt
 * carries the same id, and `apns-collapse-id` (also derived from it) makes the device replace a
 * displayed notification with the same id instead of showing a second (docs/channels.md, "Push").
 */
export class ApnsPushProvider implements PushProvider {
  readonly name = 'apns';
  private session: ClientHttp2Session | undefined;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(
    private readonly credentials: ApnsCredentials,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  private async providerToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    let key: Awaited<ReturnType<typeof importPKCS8>>;
    try {
      key = await importPKCS8(this.credentials.privateKey, 'ES256');
    } catch (error) {
      throw new ProviderRejectedError(`the APNs key is not a PKCS#8 P-256 key (.p8): ${(error as Error).message}`.slice(0, 300));
    }
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.credentials.keyId })
      .setIssuer(this.credentials.teamId)
      .setIssuedAt()
      .sign(key);
    this.token = { value, expiresAt: Date.now() + TOKEN_LIFETIME_MS };
    return value;
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.baseUrl);
    session.on('error', () => session.destroy());
    session.on('goaway', () => session.close());
    session.unref();
    this.session = session;
    return session;
  }

  close(): void {
    this.session?.close();
  }

  async send(message: PushMessage): Promise<{ messageId: string }> {
    const apnsId = uuidFromKey(message.idempotencyKey);
    const payload = JSON.stringify({
      ...(message.data ?? {}),
      ...(message.deepLink && { deepLink: message.deepLink }),
      aps: { alert: { title: message.title, body: message.body }, sound: 'default' },
    });
    const authorization = `bearer ${await this.providerToken()}`;
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
      (resolve, reject) => {
        let stream: ReturnType<ReturnType<typeof this.connection>['request']>;
        try {
          stream = this.connection().request({
            [constants.HTTP2_HEADER_METHOD]: 'POST',
            [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(message.target.token)}`,
            authorization,
            'apns-topic': this.credentials.bundleId,
            'apns-push-type': 'alert',
            'apns-priority': '10',
            'apns-id': apnsId,
            'apns-collapse-id': collapseTagFromKey(message.idempotencyKey),
            'content-type': 'application/json',
          });
        } catch (error) {
          reject(new ProviderUnavailableError(`APNs unreachable: ${(error as Error).message}`));
          return;
        }
        const timer = setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), this.timeoutMs);
        let responseHeaders: Record<string, string | string[] | undefined> = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => (responseHeaders = h as Record<string, string | string[] | undefined>));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          clearTimeout(timer);
          const answered = Number(responseHeaders[constants.HTTP2_HEADER_STATUS] ?? 0);
          if (!answered) reject(new ProviderUnavailableError('APNs closed the stream without an answer'));
          else resolve({ status: answered, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') });
        });
        stream.on('error', (error) => {
          clearTimeout(timer);
          reject(new ProviderUnavailableError(`APNs unreachable: ${error.message}`));
        });
        stream.on('close', () => {
          clearTimeout(timer);
          if (!responseHeaders[constants.HTTP2_HEADER_STATUS])
            reject(new ProviderUnavailableError('APNs stream closed without an answer (timeout or connection lost)'));
        });
        stream.end(payload);
      },
    );
    if (status === 200) return { messageId: String(headers['apns-id'] ?? apnsId) };
    const reason = jsonOrUndefined<{ reason?: string }>(body)?.reason;
    const detail = `APNs ${status}${reason ? ` ${reason}` : ''}`;
    if (status === 410 || reason === 'Unregistered') throw new PushTokenGoneError(detail);
    if (status === 403 && reason === 'ExpiredProviderToken') {
      this.token = undefined;
      throw new ProviderUnavailableError(detail);
    }
    const retryAfter = headers['retry-after'];
    throw providerError(isRetryableStatus(status), detail, typeof retryAfter === 'string' ? retryAfter : undefined);
  }
}
