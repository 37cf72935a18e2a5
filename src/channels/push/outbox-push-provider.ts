import type { OutboxRepository } from '../../repositories/outbox';
import type { PushMessage, PushProvider } from './push-provider';

/**
 * The development provider for push (the default without a configuration): the title is stored in
 * the outbox's `subject`, the body in `text`, `{data, deepLink}` as JSON in `html`, and the target
 * (`{appID, platform, token}` JSON) in `to`; once per idempotency key.
 */
export class OutboxPushProvider implements PushProvider {
  readonly name = 'outbox';

  constructor(private readonly outbox: OutboxRepository) {}

  async send(message: PushMessage): Promise<{ messageId: string }> {
    const extras = { ...(message.data && { data: message.data }), ...(message.deepLink && { deepLink: message.deepLink }) };
    const messageId = await this.outbox.store({
      idempotencyKey: message.idempotencyKey,
      channel: 'push',
      to: JSON.stringify(message.target),
      subject: message.title,
      html: Object.keys(extras).length > 0 ? JSON.stringify(extras) : null,
      text: message.body,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
    return { messageId };
  }
}
