import { ApplicationFailure } from '@temporalio/activity';
import type { EmailProvider } from '../src/channels/email/email-provider';
import { ProviderRejectedError, ProviderUnavailableError } from '../src/channels/provider-errors';
import { providerUnavailableFailure } from './provider-unavailable-failure';
import { headerSafeIdempotencyKey } from '../src/channels/provider-idempotency-key';
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
    /**
     * The send of executions started before the references-not-content patch, which carry the
     * rendered message in their history; kept so they can finish. Idempotent by construction:
     * the provider deduplicates on `idempotencyKey`.
     */
    async sendEmail(input: SendEmailInput): Promise<{ messageId: string }> {
      if (!isDeliverableEmailAddress(input.to)) {
        throw ApplicationFailure.nonRetryable(`"${singleLine(input.to)}" is not a deliverable email address`, 'ProviderRejected');
      }
      try {
        return await provider.send({ ...input, idempotencyKey: headerSafeIdempotencyKey(input.idempotencyKey), from, subject: singleLine(input.subject) });
      } catch (error) {
        if (error instanceof ProviderRejectedError) throw ApplicationFailure.nonRetryable(error.message, 'ProviderRejected');
        if (error instanceof ProviderUnavailableError) throw providerUnavailableFailure(error);
        throw error;
      }
    },
  };
}
