import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Channel } from '../domain/campaign';
import type { DeliveryFeedback, ProviderEvent } from '../domain/provider-feedback';

/** The delivery a provider event is about. */
export interface MatchedDelivery {
  executionId: string;
  position: number;
  address: string | null;
  feedback: DeliveryFeedback | null;
}

/** Ranks below each feedback: what it may replace (see feedbackMovesForward). */
const REPLACES: Record<DeliveryFeedback, DeliveryFeedback[]> = {
  delayed: [],
  delivered: ['delayed'],
  bounced: ['delayed', 'delivered'],
  complained: ['delayed', 'delivered', 'bounced'],
};

/** Where provider events land: `delivery_events` (each one, once) and `deliveries.feedback` (forward only). */
export class ProviderFeedbackRepository {
  constructor(private readonly db: HeraldDb) {}

  /** The delivery a provider's message id names on `channel` (index deliveries_message_id). */
  async deliveryOf(channel: Channel, messageId: string): Promise<MatchedDelivery | undefined> {
    const row = await this.db
      .selectFrom('deliveries')
      .select(['execution_id', 'position', 'address', 'feedback'])
      .where('message_id', '=', messageId)
      .where('channel', '=', channel)
      .executeTakeFirst();
    return row && { executionId: row.execution_id, position: row.position, address: row.address, feedback: row.feedback };
  }

  /**
   * Stores the event; false when an event with its provider id is already stored (a replay),
   * which the unique index decides, so two deliveries of one event racing each other record it once.
   */
  async recordEvent(delivery: MatchedDelivery, event: ProviderEvent): Promise<boolean> {
    const result = await this.db
      .insertInto('delivery_events')
      .values({
        execution_id: delivery.executionId,
        position: delivery.position,
        type: event.type,
        link_index: null,
        occurred_at: event.occurredAt,
        user_agent: event.userAgent?.slice(0, 256) ?? null,
        detail: event.detail ?? null,
        provider_event_id: event.providerEventId,
      })
      .onConflict((oc) => oc.column('provider_event_id').where('provider_event_id', 'is not', null).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * Moves the delivery's feedback to `feedback` if that is further along, in one conditional
   * update (concurrent events cannot move it back either); a hard bounce also replaces a soft
   * one. Whether it moved.
   */
  async advance(delivery: MatchedDelivery, feedback: DeliveryFeedback, bounceType: 'hard' | 'soft' | undefined, at: string): Promise<boolean> {
    const replaces = REPLACES[feedback];
    const result = await this.db
      .updateTable('deliveries')
      .set({ feedback, bounce_type: feedback === 'bounced' ? (bounceType ?? 'soft') : sql<'hard' | 'soft' | null>`bounce_type`, feedback_at: at })
      .where('execution_id', '=', delivery.executionId)
      .where('position', '=', delivery.position)
      .where((eb) =>
        eb.or([
          eb('feedback', 'is', null),
          ...(replaces.length > 0 ? [eb('feedback', 'in', replaces)] : []),
          ...(feedback === 'bounced' && bounceType === 'hard' ? [eb.and([eb('feedback', '=', 'bounced'), eb('bounce_type', '=', 'soft')])] : []),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
