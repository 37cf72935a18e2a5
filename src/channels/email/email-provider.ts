export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text?: string;
  /** From the campaign's channel configuration, when it has one. */
  replyTo?: string | string[];
  headers?: Record<string, string>;
  /** Stable per execution, recipient and channel, so a retried send is delivered once. */
  idempotencyKey: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export interface EmailProvider {
  readonly name: string;
  /** Resolves with the provider's message id; throws ProviderUnavailableError or ProviderRejectedError. */
  send(message: EmailMessage): Promise<{ messageId: string }>;
  /**
   * Sends up to MAX_EMAIL_BATCH messages in one provider call, deduplicated as a whole on
   * `batchIdempotencyKey` (see batchIdempotencyKey). All are accepted, and their ids resolve in the
   * order of `messages`, or the call throws ProviderUnavailableError or ProviderRejectedError and
   * none is: a retry must repeat the same messages under the same key. A provider without a batch
   * endpoint or an idempotency key (SMTP, SES) refuses every batch with ProviderRejectedError
   * before sending any of it (one-by-one-batch.ts), so the caller sends each message by itself.
   */
  sendBatch(messages: EmailMessage[], batchIdempotencyKey: string): Promise<{ messageIds: string[] }>;
}

/** Resend's limit for `POST /emails/batch`; a larger batch is a programming error, not a provider answer. */
export const MAX_EMAIL_BATCH = 100;
