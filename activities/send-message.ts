import { ApplicationFailure } from '@temporalio/activity';
import type { Attempt, EmailHeadersFor, PushSending } from '../src/channels/channel-dispatch';
import type { EmailProvider } from '../src/channels/email/email-provider';
import type { EmailSenderResolver } from '../src/channels/email/email-senders';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { providerIdempotencyKey } from '../src/channels/provider-idempotency-key';
import { channelOf } from '../src/channels/registry';
import type { SmsSenderResolver } from '../src/channels/sms/sms-senders';
import type { WhatsAppSenderResolver } from '../src/channels/whatsapp/whatsapp-senders';
import type { ChatSenderResolver } from '../src/channels/chat/chat-senders';
import type { DeliveryRepository } from '../src/repositories/deliveries';
import type { InboxRepository } from '../src/repositories/inbox';
import type { SendWithFailover, TryConfiguration } from './provider-failover';
import { providerUnavailableFailure } from './provider-unavailable-failure';

export interface SendMessageInput {
  executionId: string;
  position: number;
}

export interface SendPreparedNowInput {
  executionId: string;
  positions: number[];
}

/** What one quick attempt at every message of an execution did; `retry` goes the durable way. */
export interface SendPreparedNowResult {
  sent: number[];
  /** Refused for good by the provider; the reason is on the delivery. */
  rejected: number[];
  retry: number[];
  /** The longest Retry-After a provider asked for, which the durable path waits out first. */
  retryAfterMs?: number;
}

export interface SendMessageDependencies {
  deliveries: DeliveryRepository;
  /** The default email provider and sender, for every email when `emailSenderFor` is absent. */
  emailProvider: EmailProvider;
  emailFrom: string;
  /**
   * Resolves who a campaign's email is sent as (its channel configuration, read from Herald's
   * database by campaign id); without it every message goes through `emailProvider` as `emailFrom`.
   */
  emailSenderFor?: EmailSenderResolver;
  /** The same for SMS (a Twilio account or the outbox); without it an SMS cannot be sent. */
  smsSenderFor?: SmsSenderResolver;
  /** The same for WhatsApp (Twilio, Meta's Cloud API or the outbox); without it a WhatsApp message cannot be sent. */
  whatsappSenderFor?: WhatsAppSenderResolver;
  /** Push senders and forgetting gone tokens; without it a push message cannot be sent. */
  push?: PushSending;
  /** The in-app inbox the messages are stored in; without it an in-app message cannot be sent. */
  inbox?: Pick<InboxRepository, 'store'>;
  /** Resolves a campaign's chat sender (a configuration's Slack, Teams or Discord, else the outbox); without it a chat message cannot be sent. */
  chatSenderFor?: ChatSenderResolver;
  /** Adds a marketing email's one-click unsubscribe headers (activities/unsubscribe-headers.ts). */
  emailHeadersFor?: EmailHeadersFor;
  /**
   * Sends through the campaign's channel configuration or its fallbacks, behind their circuit
   * breakers (activities/provider-failover.ts); without it a message goes through the campaign's
   * own configuration only.
   */
  sendWithFailover?: SendWithFailover;
}

export function sendMessageActivities({
  deliveries,
  emailProvider,
  emailFrom,
  emailSenderFor,
  smsSenderFor,
  whatsappSenderFor,
  push,
  inbox,
  chatSenderFor,
  emailHeadersFor,
  sendWithFailover,
}: SendMessageDependencies) {
  /**
   * One attempt at one prepared message, read by reference from Herald's database. Idempotent
   * twice over: a recipient already recorded as sent is not sent again, and the provider
   * deduplicates on a key derived from the execution and recipient. Twilio has no such key: an SMS
   * whose acceptance was lost (or not recorded) is sent again (docs/channels.md, "SMS"). A permanent refusal is
   * recorded with its reason here, so no personal data travels back to the workflow.
   */
  async function attempt({ executionId, position }: SendMessageInput): Promise<Attempt> {
    const message = await deliveries.messageToSend(executionId, position);
    if (!message) return { kind: 'not-sendable', detail: `No delivery ${executionId}#${position}` };
    if (message.status === 'sent' && message.messageId) return { kind: 'sent', messageId: message.messageId };
    if (message.status !== 'pending' || !message.content) {
      return {
        kind: 'not-sendable',
        detail: `Delivery ${executionId}#${position} is ${message.status} and has ${message.content ? 'a' : 'no'} rendered message`,
      };
    }
    const reject = async (reason: string): Promise<Attempt> => {
      await deliveries.markFailed(executionId, position, `provider-rejected: ${reason}`);
      return { kind: 'rejected' };
    };
    const outgoing = {
      executionId,
      position,
      campaignId: message.campaignId,
      userId: message.userId,
      to: message.address ?? '',
      content: message.content,
      idempotencyKey: providerIdempotencyKey(message.executionId, message.userId, message.channel, message.stepId),
    };
    /** One try through one configuration (absent: the campaign's own or the channel's default), recording which sent it. */
    const dispatchWith: TryConfiguration = async (configuration, via) => {
      let calledProvider = false;
      /** Sends through a provider and records it sent; a refusal and an outage are outcomes, anything else throws. */
      const sendAndRecord = async (
        send: () => Promise<{ messageId: string }>,
        refusal?: (error: unknown) => Promise<Attempt | undefined>,
      ): Promise<Attempt> => {
        calledProvider = true;
        try {
          const { messageId } = await send();
          await deliveries.markSent(executionId, position, messageId, via);
          return { kind: 'sent', messageId };
        } catch (error) {
          const handled = await refusal?.(error);
          if (handled) return handled;
          if (error instanceof ProviderRejectedError) return reject(error.message);
          if (error instanceof ProviderUnavailableError) return { kind: 'unavailable', error };
          throw error;
        }
      };
      // The registry names the channel (an unknown one throws UnknownChannelError) and how its message leaves.
      const attempt = await channelOf(message.channel).dispatch(outgoing, {
        ...(configuration !== undefined && { configuration }),
        emailProvider,
        emailFrom,
        ...(emailSenderFor && { emailSenderFor }),
        ...(emailHeadersFor && { emailHeadersFor }),
        ...(smsSenderFor && { smsSenderFor }),
        ...(whatsappSenderFor && { whatsappSenderFor }),
        ...(push && { push }),
        ...(inbox && { inbox }),
        ...(chatSenderFor && { chatSenderFor }),
        sendAndRecord,
        reject,
        markFailed: (reason) => deliveries.markFailed(executionId, position, reason),
      });
      return { attempt, calledProvider };
    };
    if (!sendWithFailover) return (await dispatchWith(undefined, undefined)).attempt;
    return sendWithFailover({ campaignId: message.campaignId, executionId, position, channel: message.channel }, dispatchWith);
  }

  return {
    /** The durable send: retried by the workflow's long policy until the provider accepts. */
    async sendMessage(input: SendMessageInput): Promise<{ messageId: string }> {
      const result = await attempt(input);
      switch (result.kind) {
        case 'sent':
          return { messageId: result.messageId };
        case 'rejected':
          throw ApplicationFailure.nonRetryable(
            `The provider refused message ${input.executionId}#${input.position}; the reason is on the execution`,
            'ProviderRejected',
          );
        case 'not-sendable':
          throw ApplicationFailure.nonRetryable(result.detail, 'MessageNotSendable');
        case 'unavailable':
          throw providerUnavailableFailure(result.error);
      }
    },

    /**
     * One quick attempt at every prepared message of an execution, at once, as a local activity
     * in the same workflow task as the preparation: the happy path needs no activity task and no
     * further round trip. Whatever did not end sent or refused (the provider was unavailable, the
     * database hiccupped) is returned for the durable `sendMessage`, which is safe to run after
     * this for the same message.
     */
    async sendPreparedNow({ executionId, positions }: SendPreparedNowInput): Promise<SendPreparedNowResult> {
      const results = await Promise.all(positions.map((position) => attempt({ executionId, position }).catch(() => ({ kind: 'failed' }) as const)));
      const where = (kind: Attempt['kind']) => positions.filter((_, i) => results[i]!.kind === kind);
      const retryAfter = results.flatMap((result) =>
        result.kind === 'unavailable' && result.error.retryAfterMs !== undefined ? [result.error.retryAfterMs] : [],
      );
      return {
        sent: where('sent'),
        rejected: where('rejected'),
        retry: positions.filter((_, i) => !['sent', 'rejected'].includes(results[i]!.kind)),
        ...(retryAfter.length > 0 && { retryAfterMs: Math.max(...retryAfter) }),
      };
    },
  };
}
