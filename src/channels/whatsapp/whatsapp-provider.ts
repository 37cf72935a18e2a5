import type { WhatsAppTemplateMessage } from './whatsapp-template';

export interface WhatsAppMessage {
  /** E.164 (a provider adds its own form: Twilio's `whatsapp:` prefix). */
  to: string;
  /** Exactly one of a session message's text and an approved template with its parameters rendered. */
  body?: string;
  template?: WhatsAppTemplateMessage;
  /**
   * Stable per execution, recipient and channel. Neither Twilio nor Meta has an idempotency key for
   * sends, so only the outbox deduplicates on it; see docs/whatsapp.md for what Herald guarantees.
   */
  idempotencyKey: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export interface WhatsAppProvider {
  readonly name: string;
  /** Resolves with the provider's message id (Twilio's SM… sid, Meta's wamid…); throws ProviderUnavailableError or ProviderRejectedError. */
  send(message: WhatsAppMessage): Promise<{ messageId: string }>;
}
