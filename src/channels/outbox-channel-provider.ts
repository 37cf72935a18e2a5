import type { Channel } from '../domain/campaign';
import type { NewOutboxMessage, OutboxRepository } from '../repositories/outbox';

/** What every channel's message brings to the outbox: the key it is stored once under, and whose send it is. */
export type OutboxSend = Pick<NewOutboxMessage, 'idempotencyKey' | 'campaignId' | 'executionId' | 'userId'>;

/** A channel's message in the outbox's columns. */
export type OutboxContent = Pick<NewOutboxMessage, 'to' | 'subject' | 'html' | 'text'>;

/**
 * The development provider of every channel: it stores the message in Herald's outbox instead of
 * sending it, once per provider idempotency key (a retry answers the first attempt's row id). A
 * channel's outbox provider says only how its message fills the outbox's columns.
 */
export abstract class OutboxChannelProvider<Message extends OutboxSend> {
  readonly name = 'outbox';
  protected abstract readonly channel: Channel;

  constructor(protected readonly outbox: OutboxRepository) {}

  protected abstract content(message: Message): OutboxContent;

  async send(message: Message): Promise<{ messageId: string }> {
    return { messageId: await this.outbox.store(this.outboxMessage(message)) };
  }

  protected outboxMessage(message: Message): NewOutboxMessage {
    return {
      idempotencyKey: message.idempotencyKey,
      channel: this.channel,
      ...this.content(message),
      campaignId: message.campaignId,
      executionId: message.executionId,
      userId: message.userId,
    };
  }
}
