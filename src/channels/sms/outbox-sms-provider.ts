import type { OutboxRepository } from '../../repositories/outbox';
import type { SmsMessage, SmsProvider } from './sms-provider';

/** The development provider for SMS: the body is stored in the outbox's `text`, once per idempotency key. */
export class OutboxSmsProvider implements SmsProvider {
  readonly name = 'outbox';

  constructor(private readonly outbox: OutboxRepository) {}

  async send(message: SmsMessage): Promise<{ messageId: string }> {
    const messageId = await this.outbox.store({
      idempotencyKey: message.idempotencyKey,
      channel: 'sms',
      to: message.to,
      subject: null,
      html: null,
      text: message.body,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
    return { messageId };
  }
}
