import type { OutboxRepository } from '../../repositories/outbox';
import type { EmailMessage, EmailProvider } from './email-provider';

/** The development provider: stores rendered email in Herald's outbox instead of sending it. */
export class OutboxEmailProvider implements EmailProvider {
  readonly name = 'outbox';

  constructor(private readonly outbox: OutboxRepository) {}

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    const messageId = await this.outbox.store({
      idempotencyKey: message.idempotencyKey,
      channel: 'email',
      to: message.to,
      subject: message.subject,
      html: message.html,
      text: message.text ?? null,
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    });
    return { messageId };
  }
}
