import type { Kysely, Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Database } from '../db/schema';

export type FeedbackEventType =
  | 'sent'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'failed'
  | 'excluded'
  | 'opened'
  | 'clicked'
  | 'unsubscribed'
  | 'inapp.seen'
  | 'inapp.read'
  | 'provider.circuit-opened'
  | 'provider.circuit-closed';

export const FEEDBACK_EVENT_TYPES: readonly FeedbackEventType[] = [
  'sent',
  'delivered',
  'bounced',
  'complained',
  'failed',
  'excluded',
  'opened',
  'clicked',
  'unsubscribed',
  // An in-app message seen or read the first time (src/repositories/inbox.ts).
  'inapp.seen',
  'inapp.read',
  // A channel configuration's circuit breaker opened or closed (activities/provider-failover.ts), told
  // on the message whose send changed it.
  'provider.circuit-opened',
  'provider.circuit-closed',
];

export interface FeedbackEventDetail {
  category?: string;
  code?: string;
  reason?: string;
  bounceType?: 'hard' | 'soft';
  url?: string;
  /** provider.circuit-*: the configuration whose circuit changed, and its provider. */
  configurationId?: string;
  provider?: string;
}

export interface NewFeedbackEvent {
  type: FeedbackEventType;
  executionId: string;
  position: number;
  occurredAt: string;
  detail?: FeedbackEventDetail;
}

/** Rows per insert: 6 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535. */
const APPEND_ROWS = 1_000;
/** How long a process trusts its answer to "is there an enabled endpoint?". */
export const ENDPOINT_CHECK_TTL_MS = 2_000;

/**
 * Whether an enabled endpoint existed, and when that was read. Per process, not per kysely
 * instance: a Herald process serves one database, and repositories are also built on
 * transactions (closeWithCounts), which would each miss a per-instance cache.
 */
let endpointCheck: { enabled: boolean; checkedAt: number } | undefined;

/**
 * Forgets the cached answer, so the next append reads the endpoints table again. The API calls it
 * when it creates or re-enables an endpoint, so its own process records at once; other processes
 * (the worker) see the endpoint within ENDPOINT_CHECK_TTL_MS.
 */
export function forgetEndpointCheck(): void {
  endpointCheck = undefined;
}

/**
 * The feedback events outbox: what happened to deliveries, for the customer's webhooks. Each
 * endpoint's dispatcher workflow reads the events after its cursor and posts them.
 */
export class FeedbackEventRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * Stores events, in `trx` when given (the transaction that changed the deliveries). One
   * multi-row insert; nothing at all when no webhook endpoint is enabled: that answer is read
   * at most once per ENDPOINT_CHECK_TTL_MS per process, so deployments without webhooks pay one
   * cheap query every few seconds, not one per send.
   */
  async append(events: NewFeedbackEvent[], trx?: Transaction<Database>): Promise<void> {
    if (events.length === 0) return;
    const executor: Kysely<Database> = trx ?? this.db;
    if (!(await this.active(trx))) return;
    const createdAt = new Date().toISOString();
    for (let start = 0; start < events.length; start += APPEND_ROWS) {
      const rows = events.slice(start, start + APPEND_ROWS).map((event) => ({
        type: event.type,
        execution_id: event.executionId,
        position: event.position,
        occurred_at: event.occurredAt,
        detail: event.detail && Object.keys(event.detail).length > 0 ? JSON.stringify(event.detail) : null,
        created_at: createdAt,
      }));
      await executor.insertInto('feedback_events').values(rows).execute();
    }
  }

  /** Removes events created before `before` that every enabled endpoint has read past, and attempts before it (retention). */
  async purgeBefore(before: string): Promise<number> {
    const slowest = await this.db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.min<number | string>('cursor_event_id').as('cursor'))
      .where('status', '=', 'enabled')
      .executeTakeFirst();
    let query = this.db.deleteFrom('feedback_events').where('created_at', '<', before);
    if (slowest?.cursor !== null && slowest?.cursor !== undefined) query = query.where('id', '<=', Number(slowest.cursor));
    const result = await query.executeTakeFirst();
    await this.db.deleteFrom('webhook_attempts').where('attempted_at', '<', before).execute();
    return Number(result.numDeletedRows);
  }

  /**
   * Whether events are recorded at all (an enabled endpoint exists), cached for
   * ENDPOINT_CHECK_TTL_MS. Callers that would pay to gather events (RETURNING on a bulk update)
   * ask first; append asks by itself.
   */
  async active(trx?: Transaction<Database>): Promise<boolean> {
    const now = Date.now();
    if (endpointCheck && now - endpointCheck.checkedAt < ENDPOINT_CHECK_TTL_MS) return endpointCheck.enabled;
    // Read through the caller's transaction when there is one: SQLite has one connection, held by it.
    const executor: Kysely<Database> = trx ?? this.db;
    const row = await executor.selectFrom('webhook_endpoints').select('id').where('status', '=', 'enabled').limit(1).executeTakeFirst();
    endpointCheck = { enabled: row !== undefined, checkedAt: now };
    return endpointCheck.enabled;
  }
}
