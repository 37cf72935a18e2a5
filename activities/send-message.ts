import { ApplicationFailure } from '@temporalio/activity';
import type { EmailProvider } from '../src/channels/email/email-provider';
import type { EmailSender, EmailSenderResolver } from '../src/channels/email/email-senders';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { providerIdempotencyKey } from '../src/channels/provider-idempotency-key';
import { channelOf } from '../src/channels/registry';
import type { SmsSenderResolver } from '../src/channels/sms/sms-senders';
import { PushTokenGoneError } from '../src/channels/push/push-provider';
import type { PushSenderResolver } from '../src/channels/push/push-senders';
import { parsePushAddress, type PushExtras } from '../src/domain/push';
import { isDeliverableEmailAddress, singleLine } from '../src/domain/header-safety';
import { E164 } from '../src/domain/phone-number';
import type { Channel } from '../src/domain/campaign';
import type { DeliveryRepository } from '../src/repositories/deliveries';
import { providerUnavailableFailure } from './provider-unavailable-failure';
import type { EmailHeadersFor } from './unsubscribe-headers';

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

/** Push: who a campaign's messages go through, and how a token the provider reports as gone is forgotten. */
export interface PushSending {
  senderFor: PushSenderResolver;
  forgetToken(userId: string, token: string): Promise<unknown>;
}

type Attempt =
  | { kind: 'sent'; messageId: string }
  | { kind: 'rejected' }
  | { kind: 'not-sendable'; detail: string }
  | { kind: 'unavailable'; error: ProviderUnavailableError };

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
  /** Push senders and forgetting gone tokens; without it a push message cannot be sent. */
  push?: PushSending;
  /** Adds a marketing email's one-click unsubscribe headers (activities/unsubscribe-headers.ts). */
  emailHeadersFor?: EmailHeadersFor;
}

export function sendMessageActivities({ deliveries, emailProvider, emailFrom, emailSenderFor, smsSenderFor, push, emailHeadersFor }: SendMessageDependencies) {
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
    /** Sends through a provider and records it sent; a refusal and an outage are outcomes, anything else throws. */
    const sendAndRecord = async (send: () => Promise<{ messageId: string }>, refusal?: (error: unknown) => Promise<Attempt | undefined>): Promise<Attempt> => {
      try {
        const { messageId } = await send();
        await deliveries.markSent(executionId, position, messageId);
        return { kind: 'sent', messageId };
      } catch (error) {
        const handled = await refusal?.(error);
        if (handled) return handled;
        if (error instanceof ProviderRejectedError) return reject(error.message);
        if (error instanceof ProviderUnavailableError) return { kind: 'unavailable', error };
        throw error;
      }
    };
    const to = message.address ?? '';
    const content = message.content;
    const idempotencyKey = providerIdempotencyKey(message.executionId, message.userId, message.channel);
    // One sender per channel: the registry names the channel (an unknown one throws UnknownChannelError), this table how it leaves.
    const sendThrough: Record<Channel, () => Promise<Attempt>> = {
      push: async () => {
        // The target ({appID, platform, token}) is the address; title, body and {data, deepLink} JSON were rendered into subject, text and html.
        const target = parsePushAddress(to);
        if (!target) return reject('not a push target');
        if (!push) return { kind: 'not-sendable', detail: `This worker has no push sender for ${executionId}#${position}` };
        let extras: PushExtras = {};
        try {
          extras = content.html ? (JSON.parse(content.html) as PushExtras) : {};
        } catch {
          return reject('the rendered push message is unreadable');
        }
        return sendAndRecord(
          async () => {
            const sender = await push.senderFor(message.campaignId, target.platform);
            if (sender.platforms && !sender.platforms.includes(target.platform))
              throw new ProviderRejectedError(`the ${sender.provider.name} push provider cannot reach ${target.platform} devices`);
            return sender.provider.send({
              target,
              title: content.subject ?? '',
              body: content.text ?? '',
              ...(extras.data && { data: extras.data }),
              ...(extras.deepLink && { deepLink: extras.deepLink }),
              idempotencyKey,
              campaignId: message.campaignId,
              executionId: message.executionId,
              userId: message.userId,
            });
          },
          async (error) => {
            if (!(error instanceof PushTokenGoneError)) return undefined;
            // The device is gone: forget its token on the profile, so later sends do not try it again.
            await push.forgetToken(message.userId, target.token);
            await deliveries.markFailed(executionId, position, `push-token-gone: ${error.message}`);
            return { kind: 'rejected' };
          },
        );
      },
      sms: async () => {
        // The body was rendered into the message's text; the address was normalised to E.164 at preparation.
        if (!E164.test(to)) return reject('not an E.164 phone number');
        if (!smsSenderFor) return { kind: 'not-sendable', detail: `This worker has no SMS sender for ${executionId}#${position}` };
        return sendAndRecord(async () => {
          const sms = await smsSenderFor(message.campaignId);
          return sms.provider.send({
            to,
            body: content.text ?? '',
            ...(sms.messagingServiceSid !== undefined ? { messagingServiceSid: sms.messagingServiceSid } : { from: sms.from! }),
            idempotencyKey,
            campaignId: message.campaignId,
            executionId: message.executionId,
            userId: message.userId,
          });
        });
      },
      email: async () => {
        if (!isDeliverableEmailAddress(to)) return reject('not a deliverable email address');
        return sendAndRecord(async () => {
          const sender: EmailSender = emailSenderFor ? await emailSenderFor(message.campaignId) : { provider: emailProvider, from: emailFrom };
          const headers = emailHeadersFor ? await emailHeadersFor(executionId, position, sender.headers) : sender.headers;
          return sender.provider.send({
            from: sender.from,
            ...(sender.replyTo !== undefined && { replyTo: sender.replyTo }),
            ...(headers !== undefined && { headers }),
            to,
            subject: singleLine(content.subject ?? ''),
            html: content.html ?? '',
            ...(content.text !== null && { text: content.text }),
            idempotencyKey,
            campaignId: message.campaignId,
            executionId: message.executionId,
            userId: message.userId,
          });
        });
      },
    };
    return sendThrough[channelOf(message.channel).rules.name]();
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
