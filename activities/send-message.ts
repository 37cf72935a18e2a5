import { ApplicationFailure } from '@temporalio/activity';
import type { EmailProvider } from '../src/channels/email/email-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { providerUnavailableFailure } from './provider-unavailable-failure';
import { providerIdempotencyKey } from '../src/channels/provider-idempotency-key';
import { isDeliverableEmailAddress, singleLine } from '../src/domain/header-safety';
import type { DeliveryRepository } from '../src/repositories/deliveries';

export interface SendMessageInput {
  executionId: string;
  position: number;
}

/** The failure types the trigger workflow does not retry; their reason is already on the delivery. */
export const SEND_NON_RETRYABLE = ['ProviderRejected', 'MessageNotSendable'] as const;

export function sendMessageActivities(deliveries: DeliveryRepository, provider: EmailProvider, from: string) {
  /** Records why the message can never go, then fails without personal data in the message. */
  async function reject(input: SendMessageInput, reason: string): Promise<never> {
    await deliveries.markFailed(input.executionId, input.position, `provider-rejected: ${reason}`);
    throw ApplicationFailure.nonRetryable(`The provider refused message ${input.executionId}#${input.position}; the reason is on the execution`, 'ProviderRejected');
  }

  return {
    /**
     * Sends one prepared message, read by reference from Herald's database. Idempotent twice
     * over: a recipient already recorded as sent is not sent again, and the provider
     * deduplicates on a key derived from the execution and recipient.
     */
    async sendMessage(input: SendMessageInput): Promise<{ messageId: string }> {
      const message = await deliveries.messageToSend(input.executionId, input.position);
      if (!message) throw ApplicationFailure.nonRetryable(`No delivery ${input.executionId}#${input.position}`, 'MessageNotSendable');
      if (message.status === 'sent' && message.messageId) return { messageId: message.messageId };
      if (message.status !== 'pending' || !message.content) {
        throw ApplicationFailure.nonRetryable(`Delivery ${input.executionId}#${input.position} is ${message.status} and has ${message.content ? 'a' : 'no'} rendered message`, 'MessageNotSendable');
      }
      const to = message.address ?? '';
      if (!isDeliverableEmailAddress(to)) return reject(input, 'not a deliverable email address');
      let messageId: string;
      try {
        ({ messageId } = await provider.send({
          from,
          to,
          subject: singleLine(message.content.subject ?? ''),
          html: message.content.html ?? '',
          ...(message.content.text !== null && { text: message.content.text }),
          idempotencyKey: providerIdempotencyKey(message.executionId, message.userId, message.channel),
          campaignId: message.campaignId,
          executionId: message.executionId,
          userId: message.userId,
        }));
      } catch (error) {
        if (error instanceof ProviderRejectedError) return reject(input, error.message);
        if (error instanceof ProviderUnavailableError) throw providerUnavailableFailure(error);
        throw error;
      }
      await deliveries.markSent(input.executionId, input.position, messageId);
      return { messageId };
    },
  };
}
