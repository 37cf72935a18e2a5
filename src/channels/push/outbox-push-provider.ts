import { OutboxChannelProvider, type OutboxContent } from '../outbox-channel-provider';
import type { PushMessage, PushProvider } from './push-provider';

/**
 * The development provider for push (the default without a configuration): the title is stored in
 * the outbox's `subject`, the body in `text`, `{data, deepLink}` as JSON in `html`, and the target
 * (`{appID, platform, token}` JSON) in `to`; once per idempotency key.
 */
export class OutboxPushProvider extends OutboxChannelProvider<PushMessage> implements PushProvider {
  protected readonly channel = 'push';

  protected content(message: PushMessage): OutboxContent {
    const extras = { ...(message.data && { data: message.data }), ...(message.deepLink && { deepLink: message.deepLink }) };
    return {
      to: JSON.stringify(message.target),
      subject: message.title,
      html: Object.keys(extras).length > 0 ? JSON.stringify(extras) : null,
      text: message.body,
    };
  }
}
