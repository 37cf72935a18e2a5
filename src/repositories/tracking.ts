import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import { inTransaction } from '../db/in-transaction';
import { FeedbackEventRepository } from './feedback-events';
import { MAX_EVENTS_PER_DELIVERY } from '../domain/tracking';

export type EngagementType = 'opened' | 'clicked';

export interface EngagementCounts {
  opens: number;
  clicks: number;
}

/** Where preparation puts a delivery's tracked links, and what the public /t/* endpoints read and record. */
export class TrackingRepository {
  constructor(private readonly db: HeraldDb) {}

  /** The original URL of a tracked link, or undefined when Herald never stored it (or retention removed it). */
  async linkUrl(executionId: string, position: number, linkIndex: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('tracked_links')
      .select('url')
      .where('execution_id', '=', executionId)
      .where('position', '=', position)
      .where('link_index', '=', linkIndex)
      .executeTakeFirst();
    return row?.url;
  }

  /** Whether this delivery's message was rendered with tracking (so an open of it can be recorded). */
  async isTracked(executionId: string, position: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('deliveries')
      .select('tracking')
      .where('execution_id', '=', executionId)
      .where('position', '=', position)
      .executeTakeFirst();
    return Boolean(row?.tracking);
  }

  /**
   * Records one open or click. Every hit is a row (the status counts them all, repeats
   * included), up to MAX_EVENTS_PER_DELIVERY of a type per delivery: past that the hit is
   * answered but not stored, so a token replayed without end cannot grow the table.
   */
  async record(event: { executionId: string; position: number; type: EngagementType; linkIndex?: number; userAgent: string | null }): Promise<boolean> {
    const recorded = await this.db
      .selectFrom('delivery_events')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('execution_id', '=', event.executionId)
      .where('position', '=', event.position)
      .where('type', '=', event.type)
      .executeTakeFirst();
    if (Number(recorded?.count ?? 0) >= MAX_EVENTS_PER_DELIVERY) return false;
    const occurredAt = new Date().toISOString();
    const insert = (db: HeraldDb) =>
      db
        .insertInto('delivery_events')
        .values({
          execution_id: event.executionId,
          position: event.position,
          type: event.type,
          link_index: event.linkIndex ?? null,
          occurred_at: occurredAt,
          user_agent: event.userAgent,
        })
        .execute();
    const feedback = new FeedbackEventRepository(this.db);
    // With webhook endpoints, the open or click is also a feedback event (a click with its URL), in the same transaction.
    if (!(await feedback.active())) {
      await insert(this.db);
      return true;
    }
    const url = event.type === 'clicked' && event.linkIndex !== undefined ? await this.linkUrl(event.executionId, event.position, event.linkIndex) : undefined;
    await inTransaction(this.db, async (trx) => {
      await insert(trx);
      await feedback.append(
        [{ type: event.type, executionId: event.executionId, position: event.position, occurredAt, ...(url !== undefined && { detail: { url } }) }],
        trx,
      );
    });
    return true;
  }

  /** Opens and clicks of every delivery of an execution, by position. */
  async countsByPosition(executionId: string): Promise<Map<number, EngagementCounts>> {
    const rows = await this.db
      .selectFrom('delivery_events')
      .select(['position', 'type', sql<number | string>`count(*)`.as('count')])
      .where('execution_id', '=', executionId)
      // The table also holds provider feedback (delivered, bounced…): only opens and clicks count here.
      .where('type', 'in', ['opened', 'clicked'])
      .groupBy(['position', 'type'])
      .execute();
    const counts = new Map<number, EngagementCounts>();
    for (const row of rows) {
      const entry = counts.get(row.position) ?? { opens: 0, clicks: 0 };
      if (row.type === 'opened') entry.opens = Number(row.count);
      else entry.clicks = Number(row.count);
      counts.set(row.position, entry);
    }
    return counts;
  }
}
