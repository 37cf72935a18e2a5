export interface SmsMessage {
  /** E.164. */
  to: string;
  body: string;
  /** Exactly one of `from` (E.164 or an alphanumeric sender id) and `messagingServiceSid`. */
  from?: string;
  messagingServiceSid?: string;
  /**
   * Stable per execution, recipient and channel. Twilio has no idempotency key for sends, so only
   * the outbox deduplicates on it; see docs/channels.md, "SMS", for what Herald guarantees with Twilio.
   */
  idempotencyKey: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export interface SmsProvider {
  readonly name: string;
  /** Resolves with the provider's message id (Twilio's SM… sid); throws ProviderUnavailableError or ProviderRejectedError. */
  send(message: SmsMessage): Promise<{ messageId: string }>;
}
