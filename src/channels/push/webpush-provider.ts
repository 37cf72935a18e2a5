import webpush from 'web-push';
import { webPushSubscription } from '../../domain/push';
import { ProviderRejectedError } from '../provider-errors';
import { answerError, callProvider } from '../provider-http';
import { collapseTagFromKey, PushTokenGoneError, type PushMessage, type PushProvider } from './push-provider';

export interface VapidKeys {
  subject: string;
  publicKey: string;
  privateKey: string;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), built by
 * the maintained `web-push` library (`generateRequestDetails`: the encrypted body and the
 * Authorization, TTL, Content-Encoding and Topic headers) and posted with fetch to the
 * subscription's endpoint, which is the target: there is no base URL to override, a fake push
 * service is simply an endpoint on loopback.
 *
 * The payload is the JSON `{title, body, data?, deepLink?}` the site's service worker reads.
 * 201 (or any 2xx) is accepted, with the push service's `Location` as the message id. 404 and 410
 * mean the subscription is gone (PushTokenGoneError); 429 (with Retry-After), 5xx and network
 * errors are retryable; every other 4xx (400, 403 bad VAPID, 413 too large) is a refusal.
 *
 * Idempotency: Web Push has no idempotency key. The `Topic` header, derived from the idempotency
 * key, makes the push service replace a still-undelivered message with the same topic, so a
 * retry after a lost answer collapses into one notification while the first is queued; once the
 * first was delivered to the browser a retry shows again (docs/channels.md, "Push").
 */
export class WebPushProvider implements PushProvider {
  readonly name = 'webpush';

  constructor(
    private readonly vapid: VapidKeys,
    private readonly timeoutMs: number,
  ) {}

  async send(message: PushMessage): Promise<{ messageId: string }> {
    const parsed = webPushSubscription(message.target.token);
    if ('problem' in parsed) throw new ProviderRejectedError(`not a Web Push subscription: ${parsed.problem}`);
    const topic = collapseTagFromKey(message.idempotencyKey);
    const payload = JSON.stringify({
      title: message.title,
      body: message.body,
      ...(message.data && { data: message.data }),
      ...(message.deepLink && { deepLink: message.deepLink }),
    });
    let request: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      request = webpush.generateRequestDetails(parsed.subscription, payload, {
        vapidDetails: { subject: this.vapid.subject, publicKey: this.vapid.publicKey, privateKey: this.vapid.privateKey },
        contentEncoding: 'aes128gcm',
        topic,
        urgency: 'normal',
      });
    } catch (error) {
      // Bad VAPID keys or subscription keys, or a payload over the 4 KB Web Push allows.
      throw new ProviderRejectedError(`Web Push request not built: ${(error as Error).message}`.slice(0, 300));
    }
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
    const answer = await callProvider(
      'Web Push service',
      request.endpoint,
      { method: 'POST', headers, ...(request.body && { body: new Uint8Array(request.body) }) },
      this.timeoutMs,
    );
    if (answer.ok) return { messageId: answer.headers.get('location') ?? `webpush-${topic}` };
    const detail = `Web Push ${answer.status}: ${(answer.text || 'no detail').slice(0, 300)}`;
    if (answer.status === 404 || answer.status === 410) throw new PushTokenGoneError(detail);
    throw answerError(answer, detail);
  }
}
