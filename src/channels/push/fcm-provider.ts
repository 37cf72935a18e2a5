import { gaxios, JWT } from 'google-auth-library';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import { answerError, callProvider, jsonOrUndefined } from '../provider-http';
import { collapseTagFromKey, PushTokenGoneError, type PushMessage, type PushProvider } from './push-provider';

export const FCM_API = 'https://fcm.googleapis.com';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

interface ServiceAccount {
  client_email: string;
  private_key: string;
  token_uri?: string;
}

/** FCM's error body: `{error: {code, message, status, details: [{'@type': '…FcmError', errorCode}]}}`. */
interface FcmError {
  error?: { code?: number; message?: string; status?: string; details?: { '@type'?: string; errorCode?: string }[] };
}

/** Parses the service account JSON a configuration's `serviceAccountEnv` names; throws a refusal naming what is missing. */
export function parseServiceAccount(json: string): ServiceAccount {
  let value: Partial<ServiceAccount>;
  try {
    value = JSON.parse(json) as Partial<ServiceAccount>;
  } catch {
    throw new ProviderRejectedError('the FCM service account is not JSON (give the key file Firebase downloads)');
  }
  if (typeof value.client_email !== 'string' || typeof value.private_key !== 'string')
    throw new ProviderRejectedError('the FCM service account JSON has no client_email or private_key');
  return { client_email: value.client_email, private_key: value.private_key, ...(typeof value.token_uri === 'string' && { token_uri: value.token_uri }) };
}

/**
 * Firebase Cloud Messaging, HTTP v1: `POST {FCM_BASE_URL}/v1/projects/{projectId}/messages:send`
 * with `{message: {token, notification: {title, body}, data, android, apns, webpush}}` and an
 * OAuth2 access token for the firebase.messaging scope, which the official `google-auth-library`
 * obtains (and refreshes) from the service account key. The library posts the signed assertion to
 * Google's token endpoint; when the key's `token_uri` names another one (a fake on loopback), a
 * request interceptor on its transport sends it there instead.
 *
 * 429 (Retry-After) and 5xx are retryable, as are network errors and a token endpoint that does
 * not answer. 404 or `UNREGISTERED` means the token is gone (PushTokenGoneError); every other 4xx
 * (400 INVALID_ARGUMENT, 403 SENDER_ID_MISMATCH, 401) is a refusal.
 *
 * Idempotency: FCM v1 has no idempotency key. The collapse key (android `collapse_key`, APNs
 * `apns-collapse-id`, Web Push `Topic`), derived from the provider idempotency key, makes a retry
 * replace a still-undelivered first copy on the device's queue (docs/channels.md, "Push").
 */
export class FcmPushProvider implements PushProvider {
  readonly name = 'fcm';
  private readonly url: string;
  private readonly auth: JWT;

  constructor(
    serviceAccount: ServiceAccount,
    projectId: string,
    baseUrl: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.url = `${(baseUrl ?? FCM_API).replace(/\/$/, '')}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;
    const transporter = new gaxios.Gaxios({ timeout: timeoutMs, retry: false });
    const tokenUri = serviceAccount.token_uri;
    if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
      transporter.interceptors.request.add({
        resolved: async (config) => (String(config.url) === GOOGLE_TOKEN_URL ? { ...config, url: new URL(tokenUri) } : config),
      });
    }
    this.auth = new JWT({ email: serviceAccount.client_email, key: serviceAccount.private_key, scopes: [FCM_SCOPE], transporter });
  }

  private async accessToken(): Promise<string> {
    try {
      const { token } = await this.auth.getAccessToken();
      if (!token) throw new Error('no access token in the answer');
      return token;
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status ?? (error as { status?: number }).status;
      const detail = `FCM access token not obtained${status ? ` (${status})` : ''}: ${(error as Error).message}`.slice(0, 300);
      // A refused key (400 invalid_grant, 401) will not work on a retry; a token endpoint down may.
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) throw new ProviderRejectedError(detail);
      throw new ProviderUnavailableError(detail);
    }
  }

  async send(message: PushMessage): Promise<{ messageId: string }> {
    const collapse = collapseTagFromKey(message.idempotencyKey);
    const data = { ...(message.data ?? {}), ...(message.deepLink && { deepLink: message.deepLink }) };
    const body = {
      message: {
        token: message.target.token,
        notification: { title: message.title, body: message.body },
        ...(Object.keys(data).length > 0 && { data }),
        android: { collapse_key: collapse },
        apns: { headers: { 'apns-collapse-id': collapse } },
        webpush: { headers: { Topic: collapse }, ...(message.deepLink?.startsWith('https://') && { fcm_options: { link: message.deepLink } }) },
      },
    };
    const token = await this.accessToken();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8', accept: 'application/json' };
    const answer = await callProvider('FCM', this.url, { method: 'POST', headers, body: JSON.stringify(body) }, this.timeoutMs);
    const parsed = jsonOrUndefined<FcmError & { name?: string }>(answer.text);
    if (answer.ok && typeof parsed?.name === 'string') return { messageId: parsed.name };
    const errorCode = parsed?.error?.details?.find((d) => d.errorCode)?.errorCode ?? parsed?.error?.status;
    const detail = `FCM ${answer.status}${errorCode ? ` ${errorCode}` : ''}: ${(parsed?.error?.message ?? (answer.ok ? 'an answer without a message name' : 'no detail')).slice(0, 300)}`;
    if (errorCode === 'UNREGISTERED' || answer.status === 404) throw new PushTokenGoneError(detail);
    throw answerError(answer, detail);
  }
}
