import { ApplicationFailure } from '@temporalio/activity';
import type { ProviderUnavailableError } from '../src/channels/provider-errors';

/** A provider that may accept later: retried by the activity's policy, after Retry-After when the provider gave one. */
export function providerUnavailableFailure(error: ProviderUnavailableError): ApplicationFailure {
  return ApplicationFailure.create({
    message: error.message,
    type: 'ProviderUnavailable',
    ...(error.retryAfterMs !== undefined && { nextRetryDelay: error.retryAfterMs }),
  });
}

/**
 * A batch some of whose messages the providers could not take yet (`sendPreparedNow` answered
 * them as `retry`): the whole batch is retried, after the longest Retry-After given; messages
 * recorded as sent are not sent again.
 */
export function batchRetryFailure(executionId: string, attempt: { retry: number[]; retryAfterMs?: number }): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${attempt.retry.length} message(s) of execution ${executionId} could not be sent yet; the batch is retried (messages sent are not sent again)`,
    type: 'ProviderUnavailable',
    ...(attempt.retryAfterMs !== undefined && { nextRetryDelay: attempt.retryAfterMs }),
  });
}
