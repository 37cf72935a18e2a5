import { OutboxChannelProvider, type OutboxContent } from '../outbox-channel-provider';
import { MAX_EMAIL_BATCH, type EmailMessage, type EmailProvider } from './email-provider';

/** The development provider: stores rendered email in Herald's outbox instead of sending it. */
export class OutboxEmailProvider extends OutboxChannelProvider<EmailMessage> implements EmailProvider {
  protected readonly channel = 'email';

  protected content(message: EmailMessage): OutboxContent {
    return { to: message.to, subject: message.subject, html: message.html, text: message.text ?? null };
  }

  /**
   * One insert for the whole batch. The outbox deduplicates per message (its idempotency key), not
   * per batch: a retried batch stores nothing twice and answers the same ids, like Resend's batch key.
   */
  async sendBatch(messages: EmailMessage[], _batchIdempotencyKey: string): Promise<{ messageIds: string[] }> {
    if (messages.length > MAX_EMAIL_BATCH) throw new Error(`An email batch holds at most ${MAX_EMAIL_BATCH} messages, not ${messages.length}`);
    return { messageIds: await this.outbox.storeMany(messages.map((message) => this.outboxMessage(message))) };
  }
}
