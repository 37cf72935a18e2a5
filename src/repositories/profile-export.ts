import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import { readJson, valuesTable } from '../db/dialect';
import type { Channel } from '../domain/campaign';
import { InboxRepository } from './inbox';
import type { PersonAddresses } from './profile-erasure';

export interface ExportedEvent {
  type: string;
  occurredAt: string;
  linkIndex?: number;
  /** The original URL of a clicked link, while Herald keeps it. */
  url?: string;
  userAgent?: string;
  detail?: string;
}

export interface ExportedDelivery {
  executionId: string;
  requestId: string;
  campaignId: string;
  campaignName?: string;
  position: number;
  channel: Channel;
  status: string;
  reason?: string;
  address?: string;
  messageId?: string;
  locale?: string;
  feedback?: string;
  bounceType?: string;
  feedbackAt?: string;
  triggeredAt: string;
  updatedAt: string;
  context?: unknown;
  channelData?: unknown;
  /** What was sent, while retention keeps it. */
  rendered?: { subject?: string; html?: string; text?: string };
  events: ExportedEvent[];
}

export interface ExportedHistoryEntry {
  occurredAt: string;
  action: string;
  actor: string;
  after?: Record<string, unknown>;
}

/** An event received for the person with an eventId (POST /v1/events), and how many waiting recipients it reached. */
export interface ExportedInboundEvent {
  name: string;
  receivedAt: string;
  matched: number;
}

/** A run of a campaign waiting in a waitForEvent step for an event of the person's. */
export interface ExportedEventWait {
  event: string;
  campaignId: string;
  stepId: string;
  createdAt: string;
}

/** Keyset of the person's deliveries: newest execution first, then position. */
export interface DeliveryKey {
  executionId: string;
  position: number;
}

const CHUNK = 500;

/** Reads what Herald holds about one profile key, for its export (GDPR Art. 15 and 20). */
export class ProfileExportRepository {
  constructor(private readonly db: HeraldDb) {}

  async audienceMemberships(namespace: string, userId: string) {
    const rows = await this.db
      .selectFrom('audience_members as m')
      .innerJoin('audiences as a', 'a.id', 'm.audience_id')
      .select(['m.audience_id', 'a.name', 'm.added_at'])
      .where('m.namespace', '=', namespace)
      .where('m.user_id', '=', userId)
      .orderBy('m.added_at')
      .execute();
    return rows.map((row) => ({ audienceId: row.audience_id, audienceName: row.name, addedAt: row.added_at }));
  }

  /** The person's in-app messages, newest first, as the inbox feed answers them. */
  async inboxMessages(namespace: string, userId: string) {
    return new InboxRepository(this.db).allOf({ namespace, userId });
  }

  /** The topics the key is subscribed to, oldest subscription first. */
  async topicSubscriptions(namespace: string, userId: string) {
    const rows = await this.db
      .selectFrom('topic_subscriptions as s')
      .innerJoin('topics as t', 't.key', 's.topic_key')
      .select(['s.topic_key', 't.name', 's.subscribed_at'])
      .where('s.namespace', '=', namespace)
      .where('s.user_id', '=', userId)
      .orderBy('s.subscribed_at')
      .orderBy('s.topic_key')
      .execute();
    return rows.map((row) => ({ topic: row.topic_key, topicName: row.name, subscribedAt: row.subscribed_at }));
  }

  /** The audit entries about the profile (under its internal id or its older name), oldest first: its changes, consent included. */
  async history(resourceIds: string[], limit: number): Promise<{ items: ExportedHistoryEntry[]; truncated: boolean }> {
    const rows = await this.db
      .selectFrom('audit_log')
      .select(['occurred_at', 'action', 'actor_key_id', 'after'])
      .where('resource_type', '=', 'profile')
      .where('resource_id', 'in', resourceIds)
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => ({
      occurredAt: row.occurred_at,
      action: row.action,
      actor: row.actor_key_id,
      ...(row.after !== null && { after: JSON.parse(row.after) as Record<string, unknown> }),
    }));
    return { items, truncated: rows.length > limit };
  }

  async suppressions(addresses: PersonAddresses) {
    const found: { channel: Channel; address: string; reason: string; createdAt: string }[] = [];
    for (const channel of ['email', 'sms', 'push', 'whatsapp'] as const) {
      for (let i = 0; i < addresses[channel].length; i += CHUNK) {
        const rows = await this.db
          .selectFrom('suppressions')
          .select(['address', 'reason', 'created_at'])
          .where('channel', '=', channel)
          .where('address', 'in', addresses[channel].slice(i, i + CHUNK))
          .execute();
        found.push(...rows.map((row) => ({ channel, address: row.address, reason: row.reason, createdAt: row.created_at })));
      }
    }
    return found;
  }

  /** The events received for the key, newest first, at most `limit`. */
  async inboundEvents(namespace: string, userId: string, limit: number): Promise<{ items: ExportedInboundEvent[]; truncated: boolean }> {
    const rows = await this.db
      .selectFrom('inbound_events')
      .select(['name', 'received_at', 'matched'])
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .orderBy('received_at', 'desc')
      .orderBy('event_id')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => ({ name: row.name, receivedAt: row.received_at, matched: Number(row.matched) }));
    return { items, truncated: rows.length > limit };
  }

  /** The key's open waits for events, oldest first: each is a run still waiting, until its event or its step's timeout. */
  async eventWaits(namespace: string, userId: string): Promise<ExportedEventWait[]> {
    const rows = await this.db
      .selectFrom('event_waits as w')
      .innerJoin('executions as e', 'e.id', 'w.execution_id')
      .select(['w.name', 'e.campaign_id', 'w.step_id', 'w.created_at'])
      .where('w.namespace', '=', namespace)
      .where('w.user_id', '=', userId)
      .orderBy('w.created_at')
      .orderBy('w.execution_id')
      .orderBy('w.position')
      .execute();
    return rows.map((row) => ({ event: row.name, campaignId: row.campaign_id, stepId: row.step_id, createdAt: row.created_at }));
  }

  /** Up to `limit` deliveries after `after`, with their messages and events; `next` when more follow. */
  async deliveries(namespace: string, userId: string, limit: number, after?: DeliveryKey): Promise<{ items: ExportedDelivery[]; next?: DeliveryKey }> {
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('executions as e', 'e.id', 'd.execution_id')
      .leftJoin('campaigns as c', 'c.id', 'e.campaign_id')
      .leftJoin('rendered_messages as r', (join) => join.onRef('r.execution_id', '=', 'd.execution_id').onRef('r.position', '=', 'd.position'))
      .select([
        'd.execution_id',
        'd.position',
        'd.channel',
        'd.status',
        'd.reason',
        'd.address',
        'd.message_id',
        'd.locale',
        'd.feedback',
        'd.bounce_type',
        'd.feedback_at',
        'd.updated_at',
        'd.context',
        'd.channel_data',
        'e.request_id',
        'e.campaign_id',
        'e.created_at',
        'c.name as campaign_name',
        'r.subject',
        'r.html',
        'r.text',
      ])
      .where('d.namespace', '=', namespace)
      .where('d.user_id', '=', userId);
    if (after)
      query = query.where((eb) =>
        eb.or([eb('d.execution_id', '<', after.executionId), eb.and([eb('d.execution_id', '=', after.executionId), eb('d.position', '>', after.position)])]),
      );
    const rows = await query
      .orderBy('d.execution_id', 'desc')
      .orderBy('d.position')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const events = await this.events(page.map((row) => ({ executionId: row.execution_id, position: row.position })));
    const items = page.map((row): ExportedDelivery => {
      const rendered = {
        ...(row.subject != null && { subject: row.subject }),
        ...(row.html != null && { html: row.html }),
        ...(row.text != null && { text: row.text }),
      };
      return {
        executionId: row.execution_id,
        requestId: row.request_id,
        campaignId: row.campaign_id,
        ...(row.campaign_name != null && { campaignName: row.campaign_name }),
        position: row.position,
        channel: row.channel,
        status: row.status,
        ...(row.reason !== null && { reason: row.reason }),
        ...(row.address !== null && { address: row.address }),
        ...(row.message_id !== null && { messageId: row.message_id }),
        ...(row.locale != null && { locale: row.locale }),
        ...(row.feedback != null && { feedback: row.feedback }),
        ...(row.bounce_type != null && { bounceType: row.bounce_type }),
        ...(row.feedback_at != null && { feedbackAt: row.feedback_at }),
        triggeredAt: row.created_at,
        updatedAt: row.updated_at,
        ...(row.context !== null && { context: readJson(row.context) }),
        ...(row.channel_data !== null && { channelData: readJson(row.channel_data) }),
        ...(Object.keys(rendered).length > 0 && { rendered }),
        events: events.get(`${row.execution_id}\u0000${row.position}`) ?? [],
      };
    });
    const last = page[page.length - 1];
    return { items, ...(rows.length > limit && last && { next: { executionId: last.execution_id, position: last.position } }) };
  }

  /** The recorded opens, clicks and provider events of these deliveries, with clicked links' URLs; read by key, not by execution (an audience run has many recipients). */
  private async events(keys: DeliveryKey[]): Promise<Map<string, ExportedEvent[]>> {
    const byDelivery = new Map<string, ExportedEvent[]>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = valuesTable(
        this.db,
        'k',
        ['e', 'p'],
        keys.slice(i, i + CHUNK).map((k) => [k.executionId, String(k.position)]),
      );
      const { rows } = await sql<{
        execution_id: string;
        position: number;
        type: string;
        link_index: number | null;
        occurred_at: string;
        user_agent: string | null;
        detail: string | null;
        url: string | null;
      }>`
        select ev.execution_id, ev.position, ev.type, ev.link_index, ev.occurred_at, ev.user_agent, ev.detail, l.url from ${part}
        join delivery_events ev on ev.execution_id = k.e and ev.position = cast(k.p as integer)
        left join tracked_links l on l.execution_id = ev.execution_id and l.position = ev.position and l.link_index = ev.link_index
        order by ev.occurred_at`.execute(this.db);
      for (const row of rows) {
        const key = `${row.execution_id}\u0000${row.position}`;
        const event: ExportedEvent = {
          type: row.type,
          occurredAt: row.occurred_at,
          ...(row.link_index !== null && { linkIndex: row.link_index }),
          ...(row.url !== null && { url: row.url }),
          ...(row.user_agent !== null && { userAgent: row.user_agent }),
          ...(row.detail !== null && { detail: row.detail }),
        };
        byDelivery.set(key, [...(byDelivery.get(key) ?? []), event]);
      }
    }
    return byDelivery;
  }
}
