import { channelRulesOf } from '../channels/registry';
import type { HeraldDb } from '../db/database';
import { normaliseAddress, suppressionReasonOf, type ProviderEvent } from '../domain/provider-feedback';
import { FeedbackEventRepository, type NewFeedbackEvent } from '../repositories/feedback-events';
import { ProviderFeedbackRepository } from '../repositories/provider-feedback';
import { SuppressionRepository } from '../repositories/suppressions';

/** What became of a provider event. The webhook answers 200 to all three: the provider must not retry them. */
export type ProviderEventOutcome = 'recorded' | 'replayed' | 'unknown-message';

/**
 * Applies one verified provider event, in one transaction: the event row (once per provider
 * event id), the delivery's feedback (forward only), the suppression of the address on a hard
 * bounce or complaint, and the feedback event for the customer's webhooks when the delivery
 * moved (a late `delivered` after a bounce tells the customer nothing new).
 */
export function applyProviderEvent(db: HeraldDb, event: ProviderEvent): Promise<ProviderEventOutcome> {
  return db.transaction().execute(async (trx) => {
    const feedback = new ProviderFeedbackRepository(trx);
    const delivery = await feedback.deliveryOf(event.channel, event.messageId);
    if (!delivery) return 'unknown-message';
    if (!(await feedback.recordEvent(delivery, event))) return 'replayed';

    const engagement = event.type === 'opened' || event.type === 'clicked';
    const moved = engagement
      ? false
      : await feedback.advance(delivery, event.type as Exclude<ProviderEvent['type'], 'opened' | 'clicked'>, event.bounceType, event.occurredAt);

    const reason = suppressionReasonOf(event);
    const address = reason && delivery.address !== null ? normaliseAddress(channelRulesOf(event.channel), delivery.address) : undefined;
    if (reason && address !== undefined)
      await new SuppressionRepository(trx).add({ channel: event.channel, address, reason, ...(event.detail !== undefined && { detail: event.detail }) });

    // `delayed` has no customer event; opens and clicks the provider tracked go out as they come.
    if (event.type !== 'delayed' && (engagement || moved)) {
      const out: NewFeedbackEvent = {
        type: event.type,
        executionId: delivery.executionId,
        position: delivery.position,
        occurredAt: event.occurredAt,
        ...((event.detail !== undefined || event.bounceType !== undefined || event.url !== undefined) && {
          detail: {
            ...(event.detail !== undefined && { reason: event.detail }),
            ...(event.bounceType !== undefined && { bounceType: event.bounceType }),
            ...(event.url !== undefined && { url: event.url }),
          },
        }),
      };
      await new FeedbackEventRepository(db).append([out], trx);
    }
    return 'recorded';
  });
}
