import type { ChannelConfiguration } from '../domain/channel-configuration';
import type { InboxRepository } from '../repositories/inbox';
import type { ChatSenderResolver } from './chat/chat-senders';
import type { EmailProvider } from './email/email-provider';
import type { EmailSenderResolver } from './email/email-senders';
import type { ProviderUnavailableError } from './provider-errors';
import type { PushSenderResolver } from './push/push-senders';
import type { SmsSenderResolver } from './sms/sms-senders';
import type { WhatsAppSenderResolver } from './whatsapp/whatsapp-senders';

/** What one attempt at one prepared message came to (activities/send-message.ts turns it into the activity's answer). */
export type Attempt =
  | { kind: 'sent'; messageId: string }
  | { kind: 'rejected' }
  | { kind: 'not-sendable'; detail: string }
  | { kind: 'unavailable'; error: ProviderUnavailableError };

/** The headers of one email as sent: the configuration's, and for marketing the RFC 8058 unsubscribe pair. */
export type EmailHeadersFor = (
  executionId: string,
  position: number,
  configured: Record<string, string> | undefined,
) => Promise<Record<string, string> | undefined>;

/** Push: who a campaign's messages go through, and how a token the provider reports as gone is forgotten. */
export interface PushSending {
  senderFor: PushSenderResolver;
  forgetToken(userId: string, token: string): Promise<unknown>;
}

/** One prepared message on its way out: the delivery it is, its address and rendered content, the provider's idempotency key. */
export interface OutgoingMessage {
  executionId: string;
  position: number;
  campaignId: string;
  userId: string;
  /** The delivery's address as prepared ('' when none was stored). */
  to: string;
  content: { subject: string | null; html: string | null; text: string | null };
  idempotencyKey: string;
}

/** What the send activity hands a channel's dispatch: the senders this worker has, and how outcomes are recorded. */
export interface DispatchContext {
  /**
   * The channel configuration to send with, chosen by the failover loop (activities/send-message.ts)
   * from the campaign's configuration and its fallbacks; null: the loop found the campaign has none
   * (the channel's default, looked up once); absent: the campaign's own, else the channel's default.
   * Each channel's senderFor takes it.
   */
  configuration?: ChannelConfiguration | null;
  /** The default email provider and sender, for every email when `emailSenderFor` is absent. */
  emailProvider: EmailProvider;
  emailFrom: string;
  emailSenderFor?: EmailSenderResolver;
  emailHeadersFor?: EmailHeadersFor;
  smsSenderFor?: SmsSenderResolver;
  whatsappSenderFor?: WhatsAppSenderResolver;
  push?: PushSending;
  /** Chat: who a campaign's chat messages go through (src/channels/chat/chat-senders.ts); without it a chat message cannot be sent. */
  chatSenderFor?: ChatSenderResolver;
  /** In-app: the inbox its messages are stored in (src/repositories/inbox.ts); without it an in-app message cannot be sent. */
  inbox?: Pick<InboxRepository, 'store'>;
  /** Sends through a provider and records it sent; a refusal and an outage are outcomes, anything else throws. */
  sendAndRecord(send: () => Promise<{ messageId: string }>, refusal?: (error: unknown) => Promise<Attempt | undefined>): Promise<Attempt>;
  /** Records the message refused for good (`provider-rejected: <reason>`). */
  reject(reason: string): Promise<Attempt>;
  /** Records the message failed with the reason as given (push's `push-token-gone: …`). */
  markFailed(reason: string): Promise<void>;
}

/**
 * How one channel's message leaves: its address checked, its provider found and called. Each
 * channel implements it in `src/channels/<channel>/<channel>-dispatch.ts`, listed in the registry.
 */
export type ChannelDispatch = (message: OutgoingMessage, context: DispatchContext) => Promise<Attempt>;
