import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { HeraldConfig } from '../src/config/env';
import { postWebhook } from '../src/channels/webhooks/post-webhook';
import { openWebhookSecret } from '../src/channels/webhooks/webhook-secret';
import { feedbackRequestBody } from '../src/domain/feedback-webhook';
import type { PendingFeedbackEvent, WebhookEndpoint, WebhookEndpointRepository } from '../src/repositories/webhook-endpoints';

/** Events read per activity: the scan may skip many that this endpoint does not want. */
const SCAN_EVENTS = 500;
/** Events per request when they pile up (one `message.batch`). */
export const WEBHOOK_BATCH_EVENTS = 100;
/**
 * How long a hole in the event ids is waited for. Ids are taken when a transaction inserts, not
 * when it commits (PostgreSQL); a younger hole may be a transaction still in flight whose event
 * would be skipped for good if the cursor moved past it. An older one was rolled back.
 */
export const GAP_WAIT_MS = 5_000;

/**
 * The worker's configuration, read at each delivery: `payloadKeys` open the sealed secrets,
 * `webhooks` says whether private targets are allowed, the request timeout, and after how many
 * failed requests in a row an endpoint is disabled (0: only after the 24 h retry window).
 */
export type WebhookDeliverySettings = Pick<HeraldConfig, 'webhooks' | 'payloadKeys'>;

export type WebhookBatchResult = { kind: 'stopped' } | { kind: 'disabled' } | { kind: 'delivered'; events: number; more: boolean };

function wants(endpoint: WebhookEndpoint, event: PendingFeedbackEvent): boolean {
  if (!(endpoint.events as string[]).includes(event.type)) return false;
  return endpoint.campaignIds === null || (event.campaignId !== null && endpoint.campaignIds.includes(event.campaignId));
}

/** The events after the cursor that may be taken now: up to the first hole younger than GAP_WAIT_MS. */
function withoutRecentGap(cursor: number, events: PendingFeedbackEvent[], nowMs: number): PendingFeedbackEvent[] {
  let expected = cursor + 1;
  const usable: PendingFeedbackEvent[] = [];
  for (const event of events) {
    if (event.id !== expected && nowMs - Date.parse(event.createdAt) < GAP_WAIT_MS) break;
    usable.push(event);
    expected = event.id + 1;
  }
  return usable;
}

export function webhookDeliveryActivities(endpoints: WebhookEndpointRepository, settings: WebhookDeliverySettings) {
  return {
    /**
     * Posts the next events an endpoint wants (one request, up to WEBHOOK_BATCH_EVENTS events)
     * and moves its cursor past them on a 2xx. Any other answer throws, and Temporal retries with
     * backoff (the dispatcher's policy); after HERALD_WEBHOOK_DISABLE_AFTER_FAILURES failures in
     * a row the endpoint is disabled instead. Delivery is at least once: a request that timed
     * out may have arrived, and is sent again.
     */
    async deliverWebhookBatch({ endpointId }: { endpointId: string }): Promise<WebhookBatchResult> {
      const endpoint = await endpoints.forDelivery(endpointId);
      if (endpoint?.status !== 'enabled') return { kind: 'stopped' };
      const scanned = await endpoints.eventsAfter(endpoint.cursorEventId, SCAN_EVENTS);
      const usable = withoutRecentGap(endpoint.cursorEventId, scanned, Date.now());
      const batch: PendingFeedbackEvent[] = [];
      let through = endpoint.cursorEventId;
      for (const event of usable) {
        if (wants(endpoint, event)) {
          if (batch.length === WEBHOOK_BATCH_EVENTS) break;
          batch.push(event);
        }
        through = event.id;
      }
      const more = through < (scanned.at(-1)?.id ?? through) || scanned.length === SCAN_EVENTS;
      if (batch.length === 0) {
        if (through > endpoint.cursorEventId) await endpoints.advance(endpointId, through);
        return { kind: 'delivered', events: 0, more: more && usable.length === scanned.length };
      }
      const { allowPrivate, timeoutMs, disableAfterFailures } = settings.webhooks;
      if (!settings.payloadKeys)
        throw ApplicationFailure.retryable('HERALD_PAYLOAD_KEYS is not set for the worker: the webhook secret cannot be read', 'WebhookSecretUnavailable');
      const secret = openWebhookSecret(endpoint.sealedSecret, settings.payloadKeys);
      const attempt = Context.current().info.attempt;
      const messageId = `msg_${endpointId}_${batch[0]!.id}_${batch.at(-1)!.id}`;
      const body = JSON.stringify(feedbackRequestBody(batch, attempt, new Date()));
      const answer = await postWebhook({ url: endpoint.url, secret, messageId, body, timeoutMs, allowPrivate });
      await endpoints.recordAttempt({
        endpointId,
        messageId,
        eventIds: batch.map((event) => event.id),
        statusCode: answer.statusCode,
        error: answer.error,
        durationMs: answer.durationMs,
      });
      if (answer.ok) {
        await endpoints.advance(endpointId, through);
        return { kind: 'delivered', events: batch.length, more };
      }
      const failures = await endpoints.recordFailure(endpointId);
      if (disableAfterFailures > 0 && failures >= disableAfterFailures) {
        await endpoints.disable(endpointId, `disabled after ${failures} failed requests in a row; the last: ${answer.error}`);
        log.warn('webhook endpoint disabled', { endpointId, failures });
        return { kind: 'disabled' };
      }
      throw ApplicationFailure.retryable(`webhook endpoint ${endpointId}: ${answer.error ?? 'failed'}`, 'WebhookDeliveryFailed');
    },

    /** Disables an endpoint whose events could not be delivered for the whole retry window. */
    async disableWebhookEndpoint({ endpointId, reason }: { endpointId: string; reason: string }): Promise<void> {
      await endpoints.disable(endpointId, reason);
    },
  };
}
