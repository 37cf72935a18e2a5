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
