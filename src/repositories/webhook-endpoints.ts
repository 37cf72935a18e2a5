import type { HeraldDb } from '../db/database';
import type { FeedbackEventFacts } from '../domain/feedback-webhook';
import type { FeedbackEventType } from './feedback-events';

/** An endpoint as the API shows it: never its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: FeedbackEventType[];
  /** null: every campaign. */
  campaignIds: string[] | null;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

/** What the dispatcher needs: the endpoint, its sealed secret and its cursor. */
export interface WebhookEndpointForDelivery extends WebhookEndpoint {
  sealedSecret: string;
  cursorEventId: number;
}

export interface WebhookAttempt {
  id: number;
  messageId: string;
  eventIds: number[];
  statusCode: number | null;
  error: string | null;
  attemptedAt: string;
  durationMs: number;
}

/** An event with its delivery facts and when it was stored (for the dispatcher's gap check). */
export interface PendingFeedbackEvent extends FeedbackEventFacts {
  createdAt: string;
}

type EndpointRow = {
  id: string;
  url: string;
  events: string;
  campaign_ids: string | null;
  secret: string;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  consecutive_failures: number;
  cursor_event_id: number;
  created_at: string;
  updated_at: string;
};

function endpointOf(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as FeedbackEventType[],
    campaignIds: row.campaign_ids === null ? null : (JSON.parse(row.campaign_ids) as string[]),
    status: row.status,
    disabledReason: row.disabled_reason,
    consecutiveFailures: Number(row.consecutive_failures),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The most endpoints one deployment keeps: each one is a long-lived workflow. */
export const MAX_WEBHOOK_ENDPOINTS = 100;

export class WebhookEndpointRepository {
  constructor(private readonly db: HeraldDb) {}

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** A new endpoint, enabled, whose cursor starts after the events stored so far: it receives what happens from now on. */
  async create(endpoint: {
    id: string;
    url: string;
    events: FeedbackEventType[];
    campaignIds: string[] | null;
    sealedSecret: string;
  }): Promise<WebhookEndpoint> {
    const now = new Date().toISOString();
    const last = await this.db
      .selectFrom('feedback_events')
      .select((eb) => eb.fn.max<number | string | null>('id').as('id'))
      .executeTakeFirst();
    await this.db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoint.id,
        url: endpoint.url,
        events: JSON.stringify(endpoint.events),
        campaign_ids: endpoint.campaignIds === null ? null : JSON.stringify(endpoint.campaignIds),
        secret: endpoint.sealedSecret,
        status: 'enabled',
        disabled_reason: null,
        consecutive_failures: 0,
        cursor_event_id: Number(last?.id ?? 0),
        created_at: now,
        updated_at: now,
      })
      .execute();
    return (await this.get(endpoint.id))!;
  }

  async list(): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(endpointOf);
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && endpointOf(row);
  }

  async forDelivery(id: string): Promise<WebhookEndpointForDelivery | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...endpointOf(row), sealedSecret: row.secret, cursorEventId: Number(row.cursor_event_id) };
  }

  /**
   * Changes the URL or filters; `enabled: true` re-enables (failures forgotten, the cursor kept:
   * what piled up while disabled is delivered), `enabled: false` disables.
   */
  async update(
    id: string,
    patch: { url?: string; events?: FeedbackEventType[]; campaignIds?: string[] | null; enabled?: boolean },
  ): Promise<WebhookEndpoint | undefined> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({
        ...(patch.url !== undefined && { url: patch.url }),
        ...(patch.events !== undefined && { events: JSON.stringify(patch.events) }),
        ...(patch.campaignIds !== undefined && { campaign_ids: patch.campaignIds === null ? null : JSON.stringify(patch.campaignIds) }),
        ...(patch.enabled === true && { status: 'enabled' as const, disabled_reason: null, consecutive_failures: 0 }),
        ...(patch.enabled === false && { status: 'disabled' as const, disabled_reason: 'disabled over the API' }),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    await this.db.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
    const result = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Up to `limit` events after `cursor`, oldest first, with what the payload carries: the
   * execution's request id, campaign and version, the delivery's user and channel.
   */
  async eventsAfter(cursor: number, limit: number): Promise<PendingFeedbackEvent[]> {
    const rows = await this.db
      .selectFrom('feedback_events as f')
      .leftJoin('executions as e', 'e.id', 'f.execution_id')
      .leftJoin('deliveries as d', (join) => join.onRef('d.execution_id', '=', 'f.execution_id').onRef('d.position', '=', 'f.position'))
      .select([
        'f.id',
        'f.type',
        'f.execution_id',
        'f.position',
        'f.occurred_at',
        'f.detail',
        'f.created_at',
        'e.request_id',
        'e.campaign_id',
        'e.campaign_version',
        'd.user_id',
        'd.channel',
      ])
      .where('f.id', '>', cursor)
      .orderBy('f.id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: Number(row.id),
      type: row.type,
      occurredAt: row.occurred_at,
      executionId: row.execution_id,
      position: Number(row.position),
      requestId: row.request_id,
      campaignId: row.campaign_id,
      campaignVersion: row.campaign_version === null ? null : Number(row.campaign_version),
      userId: row.user_id,
      channel: row.channel,
      createdAt: row.created_at,
      ...(row.detail && { detail: JSON.parse(row.detail) as FeedbackEventFacts['detail'] }),
    }));
  }

  /** The events up to `cursor` are delivered (or not for this endpoint): move past them and forget failures. */
  async advance(id: string, cursor: number): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ cursor_event_id: cursor, consecutive_failures: 0 })
      .where('id', '=', id)
      .where('cursor_event_id', '<', cursor)
      .execute();
    await this.db.updateTable('webhook_endpoints').set({ consecutive_failures: 0 }).where('id', '=', id).where('consecutive_failures', '>', 0).execute();
  }

  /** Counts one more failed request in a row; answers the new count. */
  async recordFailure(id: string): Promise<number> {
    await this.db
      .updateTable('webhook_endpoints')
      .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
      .where('id', '=', id)
      .execute();
    const row = await this.db.selectFrom('webhook_endpoints').select('consecutive_failures').where('id', '=', id).executeTakeFirst();
    return Number(row?.consecutive_failures ?? 0);
  }

  async disable(id: string, reason: string): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ status: 'disabled', disabled_reason: reason.slice(0, 500), updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async recordAttempt(attempt: {
    endpointId: string;
    messageId: string;
    eventIds: number[];
    statusCode: number | null;
    error: string | null;
    durationMs: number;
  }): Promise<void> {
    await this.db
      .insertInto('webhook_attempts')
      .values({
        endpoint_id: attempt.endpointId,
        message_id: attempt.messageId,
        event_ids: JSON.stringify(attempt.eventIds),
        status_code: attempt.statusCode,
        error: attempt.error === null ? null : attempt.error.slice(0, 500),
        attempted_at: new Date().toISOString(),
        duration_ms: attempt.durationMs,
      })
      .execute();
  }

  /** The most recent attempts, newest first. */
  async attempts(id: string, limit: number): Promise<WebhookAttempt[]> {
    const rows = await this.db.selectFrom('webhook_attempts').selectAll().where('endpoint_id', '=', id).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: Number(row.id),
      messageId: row.message_id,
      eventIds: JSON.parse(row.event_ids) as number[],
      statusCode: row.status_code === null ? null : Number(row.status_code),
      error: row.error,
      attemptedAt: row.attempted_at,
      durationMs: Number(row.duration_ms),
    }));
  }
}
