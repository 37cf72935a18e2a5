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
}
