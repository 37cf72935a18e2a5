import { ApplicationFailure } from '@temporalio/activity';
import type { EmailProvider } from '../src/channels/email/email-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { isDeliverableEmailAddress, singleLine } from '../src/domain/header-safety';

export interface SendEmailInput {
  idempotencyKey: string;
  to: string;
  subject: string;
  html: string;
  text?: string;
  campaignId: string;
  executionId: string;
  userId: string;
}

export function sendEmailActivities(provider: EmailProvider, from: string) {
  return {
    /** Idempotent by construction: the provider deduplicates on `idempotencyKey`. */
    async sendEmail(input: SendEmailInput): Promise<{ messageId: string }> {
      if (!isDeliverableEmailAddress(input.to)) {
        throw ApplicationFailure.nonRetryable(`"${singleLine(input.to)}" is not a deliverable email address`, 'ProviderRejected');
      }
      try {
        return await provider.send({ ...input, from, subject: singleLine(input.subject) });
      } catch (error) {
        if (error instanceof ProviderRejectedError) throw ApplicationFailure.nonRetryable(error.message, 'ProviderRejected');
        if (error instanceof ProviderUnavailableError) {
          throw ApplicationFailure.create({
            message: error.message,
            type: 'ProviderUnavailable',
            ...(error.retryAfterMs !== undefined && { nextRetryDelay: error.retryAfterMs }),
          });
        }
        throw error;
      }
    },
  };
}
