import type { NewOutboxMessage, OutboxRepository } from '../../repositories/outbox';
import { MAX_EMAIL_BATCH, type EmailMessage, type EmailProvider } from './email-provider';

/** The development provider: stores rendered email in Herald's outbox instead of sending it. */
export class OutboxEmailProvider implements EmailProvider {
  readonly name = 'outbox';

  constructor(private readonly outbox: OutboxRepository) {}

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    return { messageId: await this.outbox.store(outboxMessage(message)) };
  }

  /**
   * One insert for the whole batch. The outbox deduplicates per message (its idempotency key), not
   * per batch: a retried batch stores nothing twice and answers the same ids, like Resend's batch key.
   */
  async sendBatch(messages: EmailMessage[], _batchIdempotencyKey: string): Promise<{ messageIds: string[] }> {
    if (messages.length > MAX_EMAIL_BATCH) throw new Error(`An email batch holds at most ${MAX_EMAIL_BATCH} messages, not ${messages.length}`);
    return { messageIds: await this.outbox.storeMany(messages.map(outboxMessage)) };
  }
}

function outboxMessage(message: EmailMessage): NewOutboxMessage {
  return {
    idempotencyKey: message.idempotencyKey,
    channel: 'email',
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text ?? null,
    campaignId: message.campaignId,
    executionId: message.executionId,
    userId: message.userId,
  };
}
