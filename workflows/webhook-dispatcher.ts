import { ActivityFailure, continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';

/** Ids and settings only: no URL, secret or event content in history. */
export interface WebhookDispatcherInput {
  endpointId: string;
  /** How long to wait after an empty poll (HERALD_WEBHOOK_POLL_MS); idle, the wait grows to five times that. */
  pollMs: number;
  /** The first retry's delay (HERALD_WEBHOOK_RETRY_INITIAL_MS, 5 s by default); it doubles up to 10 minutes. */
  retryInitialMs: number;
  /** Set by continueAsNew: events delivered so far. */
  delivered?: number;
}

export interface WebhookDispatcherResult {
  endpointId: string;
  delivered: number;
  ended: 'stopped' | 'disabled';
}

/** Polls per run before continuing as new (about 7 history events each). */
const POLLS_PER_RUN = 500;
/** Failed deliveries are retried for this long before the endpoint is disabled. */
export const WEBHOOK_RETRY_WINDOW = '24 hours';

/**
 * One per webhook endpoint (`webhook/<endpointId>`), started when the endpoint is created or
 * re-enabled. Loops: deliver the next batch of events after the endpoint's cursor (kept in the
 * database), right away while they pile up, after a durable timer when there were none. A batch
 * that fails is retried by Temporal with backoff (5 s doubling to 10 minutes) for 24 hours, then
 * the endpoint is disabled and the workflow ends; it also ends when the endpoint is disabled
 * (too many failures in a row, or over the API) or deleted. Sending never waits for any of it.
 */
export async function webhookDispatcher(input: WebhookDispatcherInput): Promise<WebhookDispatcherResult> {
  const { deliverWebhookBatch } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: WEBHOOK_RETRY_WINDOW,
    retry: { initialInterval: input.retryInitialMs, backoffCoefficient: 2, maximumInterval: '10 minutes' },
  });
  const { disableWebhookEndpoint } = proxyActivities<HeraldActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  let delivered = input.delivered ?? 0;
  let idlePolls = 0;
  for (let poll = 0; poll < POLLS_PER_RUN; poll++) {
    let result: Awaited<ReturnType<typeof deliverWebhookBatch>>;
    try {
      result = await deliverWebhookBatch({ endpointId: input.endpointId });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      await disableWebhookEndpoint({ endpointId: input.endpointId, reason: `events could not be delivered for ${WEBHOOK_RETRY_WINDOW}` });
      return { endpointId: input.endpointId, delivered, ended: 'disabled' };
    }
    if (result.kind !== 'delivered') return { endpointId: input.endpointId, delivered, ended: result.kind };
    delivered += result.events;
    if (result.events > 0 || result.more) idlePolls = 0;
    else idlePolls++;
    if (!result.more) await sleep(input.pollMs * Math.min(5, Math.max(1, idlePolls)));
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof webhookDispatcher>({ ...input, delivered });
}
