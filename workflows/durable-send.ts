import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { PositionOutcome } from '../src/domain/recipient';

/**
 * Provider calls retry until the provider accepts (the idempotency key makes that safe), for
 * up to a day, which is how long Resend remembers an idempotency key.
 */
export const delivery = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '23 hours',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['ProviderRejected', 'MessageNotSendable'],
  },
});

/** One `sendMessage` activity per position, all at once, each retried until the provider accepts. */
export function sendDurably(executionId: string, positions: number[]): Promise<PositionOutcome[]> {
  return Promise.all(
    positions.map(async (position): Promise<PositionOutcome> => {
      try {
        await delivery.sendMessage({ executionId, position });
        return { position, status: 'sent' };
      } catch (error) {
        return { position, status: 'failed', reason: sendFailureReason(error) };
      }
    }),
  );
}

/** Why a send did not end in `sent`; the send activity already stored the provider's own words. */
export function sendFailureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof TimeoutFailure) return 'provider-timeout';
  if (cause instanceof ApplicationFailure && cause.type === 'ProviderRejected') return 'provider-rejected';
  return 'provider-failed';
}

/** A provider's Retry-After is honoured up to the durable policy's longest backoff. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;
