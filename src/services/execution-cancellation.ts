import { WorkflowNotFoundError } from '@temporalio/client';
import { cancelRunSignal } from '../../workflows/campaign-steps-signals';
import { notFound } from '../domain/errors';
import { withCallDeadline } from '../temporal-client/connection';
import type { ServiceDependencies } from './service-dependencies';

/** Runs one call cancels at most; a key shared by more runs is cancelled by repeating the call. */
export const MAX_CANCELLED_PER_CALL = 1000;

/**
 * `POST /v1/executions/cancel`: stops the runs of a campaign triggered with a cancellationKey
 * (src/domain/campaign-steps.ts). Each run's workflow gets a signal and stops at its wait (a
 * delay, a digest's window, an event, quiet hours), sending nothing more; a run between two waits
 * stops at the next one. Answers how many running executions it signalled.
 */
export async function cancelByKey(
  deps: ServiceDependencies,
  { campaignId, cancellationKey }: { campaignId: string; cancellationKey: string },
): Promise<{ cancelled: number }> {
  const campaign = await deps.campaigns.get(campaignId);
  if (!campaign) throw notFound(`Campaign ${campaignId}`);
  const runs = await deps.executions.runningWithCancellationKey(campaignId, cancellationKey, MAX_CANCELLED_PER_CALL);
  let cancelled = 0;
  for (const run of runs) {
    try {
      await withCallDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(run.workflowId).signal(cancelRunSignal));
      cancelled += 1;
    } catch (error) {
      // It ended meanwhile: there is nothing left to cancel.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return { cancelled };
}
