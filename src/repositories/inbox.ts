import { sql, type Selectable } from 'kysely';
import { ulidFactory } from '../ids/ulid-factory';
import type { HeraldDb } from '../db/database';
import { dialectOf, readJson } from '../db/dialect';
import type { InboxMessageTable } from '../db/schema';
import { FeedbackEventRepository } from './feedback-events';

const nextId = ulidFactory();

/** The PostgreSQL channel the inbox's changes are announced on (src/services/inbox-events.ts listens). */
export const INBOX_NOTIFY_CHANNEL = 'herald_inbox';

/** Whose inbox: a subscriber token names one person. */
export interface InboxOwner {
  namespace: string;
  userId: string;
}

/** One key per person, for maps of people (unreadCounts answers by it). */
export const ownerKey = ({ namespace, userId }: InboxOwner) => JSON.stringify([namespace, userId]);

/** How many people one grouped unread-count query asks about (two bound values each). */
const OWNERS_PER_QUERY = 500;

/** One in-app message as the feed and the stream answer it. */
export interface InboxMessage {
  id: string;
  campaignId: string;
  title: string;
  body: string;
  actionUrl: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
}

/** A message the in-app dispatch stores: the delivery it is, whose inbox, and its rendered content. */
export interface NewInboxMessage extends InboxOwner {
  campaignId: string;
  executionId: string;
  position: number;
  title: string;
  body: string;
  actionUrl?: string;
  data?: Record<string, unknown>;
}

/** What a feed lists: everything not archived (`all`), of it the unread or the read, or the archived. */
export const INBOX_STATUSES = ['all', 'unread', 'read', 'archived'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/** Where a newest-first page stopped: the last message's creation time and id. */
export interface InboxCursor {
  createdAt: string;
  id: string;
}

/** Where a poll of changes stopped: the last change's time and message id. */
export interface InboxChangeCursor {
  changedAt: string;
  id: string;
}

/** That one message of a person changed, and when (changedSince). */
export interface InboxChangeStamp extends InboxOwner {
  id: string;
  changedAt: string;
}

/** A subscriber's change to one message (PATCH /v1/inbox/messages/{id}). */
export interface InboxChange {
  seen?: true;
  read?: boolean;
  archived?: boolean;
}

/** An announcement on INBOX_NOTIFY_CHANNEL: a new message (`m`) or changed states (`c`) in one person's inbox. */
export interface InboxAnnouncement {
  kind: 'm' | 'c';
  namespace: string;
  userId: string;
  id?: string;
}

/** How many messages one insert of storeMany stores (eleven bound values each). */
const STORE_ROWS_PER_INSERT = 1000;

/** A new message's row, but its id. */
function inboxRow(message: NewInboxMessage, createdAt: string) {
  return {
    namespace: message.namespace,
    user_id: message.userId,
    campaign_id: message.campaignId,
    execution_id: message.executionId,
    position: message.position,
    title: message.title,
    body: message.body,
    action_url: message.actionUrl ?? null,
    data: message.data === undefined ? null : JSON.stringify(message.data),
    created_at: createdAt,
  };
}

function toMessage(row: Selectable<InboxMessageTable>): InboxMessage {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    title: row.title,
    body: row.body,
    actionUrl: row.action_url,
    data: row.data === null ? null : readJson<Record<string, unknown>>(row.data),
    createdAt: row.created_at,
    seenAt: row.seen_at,
    readAt: row.read_at,
    archivedAt: row.archived_at,
  };
}

/** The in-app channel's inbox (migration 0026): stored by the send, read and changed by the person. */
export class InboxRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * Stores the message of one delivery, once: a retried send finds the row it stored before. On
   * PostgreSQL a stored message is announced (NOTIFY) so every API replica's streams hear of it.
   */
  async store(message: NewInboxMessage): Promise<{ messageId: string }> {
    const now = Date.now();
    const id = nextId(now);
    const insert = this.db
      .insertInto('inbox_messages')
      .values({ ...inboxRow(message, new Date(now).toISOString()), id })
      .onConflict((oc) => oc.columns(['execution_id', 'position']).doNothing());
    const announcement: InboxAnnouncement = { kind: 'm', namespace: message.namespace, userId: message.userId, id };
    if (dialectOf(this.db) === 'postgres') {
      // One round trip per send, not two: the NOTIFY goes in the insert's statement, for the row it stored (none on a retry).
      const stored = await this.db
        .with('stored', () => insert.returning('id'))
        .selectFrom('stored')
        .select(sql<string>`pg_notify(${INBOX_NOTIFY_CHANNEL}, ${JSON.stringify(announcement)})`.as('notified'))
        .execute();
      if (stored.length > 0) return { messageId: id };
    } else if (Number((await insert.executeTakeFirst()).numInsertedOrUpdatedRows ?? 0n) > 0) return { messageId: id };
    const stored = await this.db
      .selectFrom('inbox_messages')
      .select('id')
      .where('execution_id', '=', message.executionId)
      .where('position', '=', message.position)
      .executeTakeFirstOrThrow();
    return { messageId: stored.id };
  }

  /**
   * Stores the messages of one execution's block, once each (an audience run's in-app block): one
   * multi-row insert per STORE_ROWS_PER_INSERT, and on a retry the rows stored before are found,
   * not stored again. On PostgreSQL the insert announces each row it stored (one NOTIFY per
   * message, as `store` does, in the same statement), so the API's streams hear of them in one
   * burst. Answers each message's id by position.
   */
  async storeMany(messages: readonly NewInboxMessage[]): Promise<{ position: number; messageId: string }[]> {
    const stored: { position: number; messageId: string }[] = [];
    for (let at = 0; at < messages.length; at += STORE_ROWS_PER_INSERT) {
      const chunk = messages.slice(at, at + STORE_ROWS_PER_INSERT);
      const now = Date.now();
      const createdAt = new Date(now).toISOString();
      const insert = this.db
        .insertInto('inbox_messages')
        .values(chunk.map((message) => ({ ...inboxRow(message, createdAt), id: nextId(now) })))
        .onConflict((oc) => oc.columns(['execution_id', 'position']).doNothing());
      const inserted =
        dialectOf(this.db) === 'postgres'
          ? await this.db
              .with('stored', () => insert.returning(['id', 'position', 'namespace', 'user_id']))
              .selectFrom('stored')
              .select([
                'id',
                'position',
                sql<string>`pg_notify(${INBOX_NOTIFY_CHANNEL}, json_build_object('kind', 'm', 'namespace', namespace, 'userId', user_id, 'id', id)::text)`.as(
                  'notified',
                ),
              ])
              .execute()
          : await insert.returning(['id', 'position']).execute();
      stored.push(...inserted.map((row) => ({ position: row.position, messageId: row.id })));
      const found = new Set(inserted.map((row) => row.position));
      const before = chunk.filter((message) => !found.has(message.position));
      if (before.length === 0) continue;
      // A retried block: these were stored by an earlier attempt (one execution per block).
      const rows = await this.db
        .selectFrom('inbox_messages')
        .select(['id', 'position'])
        .where('execution_id', '=', before[0]!.executionId)
        .where(
          'position',
          'in',
          before.map((message) => message.position),
        )
        .execute();
      stored.push(...rows.map((row) => ({ position: row.position, messageId: row.id })));
    }
    return stored.sort((a, b) => a.position - b.position);
  }

  /** On PostgreSQL, tells every listening API process of a change (payloads stay far below NOTIFY's 8000 bytes); on SQLite, nothing. */
  async announce(announcement: InboxAnnouncement): Promise<void> {
    if (dialectOf(this.db) !== 'postgres') return;
    await sql`select pg_notify(${INBOX_NOTIFY_CHANNEL}, ${JSON.stringify(announcement)})`.execute(this.db);
  }

  /** One newest-first page of a person's feed, after the cursor. */
  async page(owner: InboxOwner, options: { status: InboxStatus; limit: number; after?: InboxCursor }): Promise<{ items: InboxMessage[]; hasMore: boolean }> {
    let query = this.ofOwner(owner)
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.status === 'archived') query = query.where('archived_at', 'is not', null);
    else query = query.where('archived_at', 'is', null);
    if (options.status === 'unread') query = query.where('read_at', 'is', null);
    if (options.status === 'read') query = query.where('read_at', 'is not', null);
    const after = options.after;
    if (after)
      query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
    const rows = await query.execute();
    return { items: rows.slice(0, options.limit).map(toMessage), hasMore: rows.length > options.limit };
  }

  /** Messages neither read nor archived. */
  async unreadCount(owner: InboxOwner): Promise<number> {
    const row = await this.ofOwner(owner)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
      .where('read_at', 'is', null)
      .where('archived_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async get(owner: InboxOwner, id: string): Promise<InboxMessage | undefined> {
    const row = await this.ofOwner(owner).selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
  }

  /** The person's messages created after the given one, oldest first (a stream resuming with Last-Event-ID); none when it is not theirs. */
  async after(owner: InboxOwner, id: string, limit: number): Promise<InboxMessage[]> {
    const from = await this.ofOwner(owner).select(['created_at', 'id']).where('id', '=', id).executeTakeFirst();
    if (!from) return [];
    const rows = await this.ofOwner(owner)
      .selectAll()
      .where((eb) => eb.or([eb('created_at', '>', from.created_at), eb.and([eb('created_at', '=', from.created_at), eb('id', '>', from.id)])]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  /** Messages created at or after the instant (and after the cursor), oldest first, with their owners: the SQLite stream's poll. */
  async createdSince(since: string, limit: number, after?: InboxCursor): Promise<(InboxMessage & InboxOwner)[]> {
    let query = this.db.selectFrom('inbox_messages').selectAll().where('created_at', '>=', since);
    if (after)
      query = query.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
    const rows = await query.orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ ...toMessage(row), namespace: row.namespace, userId: row.user_id }));
  }

  /** Messages a subscriber changed at or after the instant (and after the cursor), oldest change first: the SQLite stream's poll for changes made in other processes. */
  async changedSince(since: string, limit: number, after?: InboxChangeCursor): Promise<InboxChangeStamp[]> {
    let query = this.db.selectFrom('inbox_messages').select(['id', 'namespace', 'user_id', 'changed_at']).where('changed_at', '>=', since);
    if (after)
      query = query.where((eb) => eb.or([eb('changed_at', '>', after.changedAt), eb.and([eb('changed_at', '=', after.changedAt), eb('id', '>', after.id)])]));
    const rows = await query.orderBy('changed_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ id: row.id, namespace: row.namespace, userId: row.user_id, changedAt: row.changed_at ?? since }));
  }

  /** Messages by id, oldest first, with their owners: the messages a batch of announcements names. */
  async byIds(ids: readonly string[]): Promise<(InboxMessage & InboxOwner)[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('inbox_messages').selectAll().where('id', 'in', ids).orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => ({ ...toMessage(row), namespace: row.namespace, userId: row.user_id }));
  }

  /** The unread count of each person, in one grouped query per OWNERS_PER_QUERY people; a person with none unread is absent. */
  async unreadCounts(owners: readonly InboxOwner[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let at = 0; at < owners.length; at += OWNERS_PER_QUERY) {
      const chunk = owners.slice(at, at + OWNERS_PER_QUERY);
      const rows = await this.db
        .selectFrom('inbox_messages')
        .select(['namespace', 'user_id', (eb) => eb.fn.countAll<number | string | bigint>().as('count')])
        .where((eb) =>
          eb(
            eb.refTuple('namespace', 'user_id'),
            'in',
            chunk.map((owner) => eb.tuple(owner.namespace, owner.userId)),
          ),
        )
        .where('read_at', 'is', null)
        .where('archived_at', 'is', null)
        .groupBy(['namespace', 'user_id'])
        .execute();
      for (const row of rows) counts.set(ownerKey({ namespace: row.namespace, userId: row.user_id }), Number(row.count));
    }
    return counts;
  }

  /** Applies a subscriber's change; undefined when the person has no such message. Seen stays as first set. */
  async change(owner: InboxOwner, id: string, change: InboxChange): Promise<InboxMessage | undefined> {
    const now = new Date().toISOString();
    const set: Partial<Record<'read_at' | 'archived_at', string | null>> = {};
    if (change.read === false) set.read_at = null;
    if (change.archived !== undefined) set.archived_at = change.archived ? now : null;
    if (Object.keys(set).length > 0)
      await this.ofOwnerUpdate(owner)
        .set({ ...set, changed_at: now })
        .where('id', '=', id)
        .execute();
    // seen, and read (which implies seen), keep the first time they were set; that first time is an outcome.
    if (change.seen || change.read) {
      const seen = await this.ofOwnerUpdate(owner)
        .set({ seen_at: now, changed_at: now })
        .where('id', '=', id)
        .where('seen_at', 'is', null)
        .returning(['execution_id', 'position'])
        .execute();
      await this.recordOutcomes(seen, 'seen', now);
    }
    if (change.read) {
      const read = await this.ofOwnerUpdate(owner)
        .set({ read_at: now, changed_at: now })
        .where('id', '=', id)
        .where('read_at', 'is', null)
        .returning(['execution_id', 'position'])
        .execute();
      await this.recordOutcomes(read, 'read', now);
    }
    const message = await this.get(owner, id);
    if (message) await this.announce({ kind: 'c', namespace: owner.namespace, userId: owner.userId });
    return message;
  }

  /** Marks every unread message read (and seen), those the unread count counts (archived ones are left as they are). */
  async readAll(owner: InboxOwner): Promise<number> {
    const now = new Date().toISOString();
    const seen = await this.ofOwnerUpdate(owner)
      .set({ seen_at: now, changed_at: now })
      .where('seen_at', 'is', null)
      .where('read_at', 'is', null)
      .where('archived_at', 'is', null)
      .returning(['execution_id', 'position'])
      .execute();
    await this.recordOutcomes(seen, 'seen', now);
    const read = await this.ofOwnerUpdate(owner)
      .set({ read_at: now, changed_at: now })
      .where('read_at', 'is', null)
      .where('archived_at', 'is', null)
      .returning(['execution_id', 'position'])
      .execute();
    await this.recordOutcomes(read, 'read', now);
    await this.announce({ kind: 'c', namespace: owner.namespace, userId: owner.userId });
    return read.length;
  }

  /** Every message of a person, newest first (export). */
  async allOf(owner: InboxOwner): Promise<InboxMessage[]> {
    const rows = await this.ofOwner(owner).selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(toMessage);
  }

  /**
   * The first time messages were seen or read, as their deliveries' outcomes: a delivery event
   * for reports and step conditions, and a feedback event (`inapp.seen`, `inapp.read`) for the
   * webhooks out while an endpoint is enabled. Once per message: one read again after being
   * marked unread is not counted again.
   */
  private async recordOutcomes(found: { execution_id: string; position: number }[], type: 'seen' | 'read', at: string): Promise<void> {
    if (found.length === 0) return;
    const before = await this.db
      .selectFrom('delivery_events')
      .select(['execution_id', 'position'])
      .where('type', '=', type)
      .where('execution_id', 'in', [...new Set(found.map((m) => m.execution_id))])
      .execute();
    const counted = new Set(before.map((e) => `${e.execution_id}\u0000${e.position}`));
    const messages = found.filter((m) => !counted.has(`${m.execution_id}\u0000${m.position}`));
    if (messages.length === 0) return;
    await this.db
      .insertInto('delivery_events')
      .values(messages.map((m) => ({ execution_id: m.execution_id, position: m.position, type, link_index: null, occurred_at: at, user_agent: null })))
      .execute();
    await new FeedbackEventRepository(this.db).append(
      messages.map((m) => ({
        type: type === 'seen' ? ('inapp.seen' as const) : ('inapp.read' as const),
        executionId: m.execution_id,
        position: m.position,
        occurredAt: at,
      })),
    );
  }

  private ofOwner(owner: InboxOwner) {
    return this.db.selectFrom('inbox_messages').where('namespace', '=', owner.namespace).where('user_id', '=', owner.userId);
  }

  private ofOwnerUpdate(owner: InboxOwner) {
    return this.db.updateTable('inbox_messages').where('namespace', '=', owner.namespace).where('user_id', '=', owner.userId);
  }
}
