import { WorkflowNotFoundError } from '@temporalio/client';
import { eventArrivedSignal } from '../../workflows/campaign-steps-signals';
import { mayTriggerCampaign, type Principal } from '../domain/api-key';
import { EventWaitRepository, type IncomingEvent } from '../repositories/event-waits';
import { withCallDeadline } from '../temporal-client/connection';
import type { ServiceDependencies } from './service-dependencies';

export interface ReceivedEvent extends IncomingEvent {
  /** Idempotency: a repeat with the same eventId answers the first call's `matched` and signals nothing. */
  eventId?: string;
}

/**
 * An event from the customer's systems (`POST /v1/events`): it reaches the runs waiting for it
 * in a waitForEvent step (src/domain/campaign-steps.ts), each by a signal to its workflow that
 * carries the step id and recipient positions only. An event nothing waits for matches nothing;
 * it is not kept for a later wait. A trigger key reaches only the runs of campaigns it may trigger.
 */
export async function receiveEvent(deps: ServiceDependencies, principal: Principal, event: ReceivedEvent): Promise<{ matched: number }> {
  const waits = new EventWaitRepository(deps.db);
  if (event.eventId !== undefined) {
    const earlier = await waits.received(event.eventId);
    if (earlier) return earlier;
  }
  const runs = (await waits.matching(event)).filter((run) => mayTriggerCampaign(principal, run.campaignId));
  let matched = 0;
  for (const run of runs) {
    try {
      await withCallDeadline(deps.temporal, () =>
        deps.temporal.workflow.getHandle(run.workflowId).signal(eventArrivedSignal, { stepId: run.stepId, positions: run.positions }),
      );
      matched += run.positions.length;
    } catch (error) {
      // The run ended meanwhile (its timeout fired, it was cancelled): it waits for nothing any more.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return event.eventId === undefined ? { matched } : waits.remember(event.eventId, event, matched);
}
