import type { HeraldDb } from '../db/database';
import type { Channel } from '../domain/campaign';

export interface OutboxMessage {
  id: string;
  channel: Channel;
  to: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  campaignId: string;
  executionId: string;
  userId: string;
  createdAt: string;
}

export type NewOutboxMessage = Omit<OutboxMessage, 'id' | 'createdAt'> & { idempotencyKey: string };

/** Rows per insert in storeMany: 10 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535. */
const STORE_MANY_ROWS = 500;

function outboxRow(message: NewOutboxMessage, createdAt: string) {
  return {
    idempotency_key: message.idempotencyKey,
    channel: message.channel,
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text,
    campaign_id: message.campaignId,
    execution_id: message.executionId,
    user_id: message.userId,
    created_at: createdAt,
  };
}

export class OutboxRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Stores a message once per idempotency key and returns its id, like a provider that deduplicates. */
  async store(message: NewOutboxMessage): Promise<string> {
    // The no-op update on conflict makes RETURNING yield the first attempt's row: one statement either way.
    const row = await this.db
      .insertInto('outbox')
      .values(outboxRow(message, new Date().toISOString()))
      .onConflict((oc) => oc.column('idempotency_key').doUpdateSet((eb) => ({ idempotency_key: eb.ref('excluded.idempotency_key') })))
      .returning('id')
      .executeTakeFirstOrThrow();
    return `outbox_${row.id}`;
  }

  /**
   * `store` for many messages at once: one multi-row insert per STORE_MANY_ROWS messages, each
   * stored once per idempotency key (a key already stored, or repeated in `messages`, answers
   * the first row's id). Ids come back in the order of `messages`.
   */
  async storeMany(messages: NewOutboxMessage[]): Promise<string[]> {
    if (messages.length === 0) return [];
    const createdAt = new Date().toISOString();
    // PostgreSQL refuses an upsert that touches one row twice, so a key repeated in the batch is inserted once.
    const unique = new Map<string, NewOutboxMessage>();
    for (const message of messages) if (!unique.has(message.idempotencyKey)) unique.set(message.idempotencyKey, message);
    const distinct = [...unique.values()];
    const idByKey = new Map<string, number>();
    const insert = async (db: HeraldDb) => {
      for (let start = 0; start < distinct.length; start += STORE_MANY_ROWS) {
        const rows = await db
          .insertInto('outbox')
          .values(distinct.slice(start, start + STORE_MANY_ROWS).map((message) => outboxRow(message, createdAt)))
          .onConflict((oc) => oc.column('idempotency_key').doUpdateSet((eb) => ({ idempotency_key: eb.ref('excluded.idempotency_key') })))
          // Neither dialect promises RETURNING in VALUES order, so each row is matched by its key.
          .returning(['id', 'idempotency_key'])
          .execute();
        for (const row of rows) idByKey.set(row.idempotency_key, row.id);
      }
    };
    // One statement is atomic by itself; only several need a transaction to store all or none.
    if (distinct.length <= STORE_MANY_ROWS) await insert(this.db);
    else await this.db.transaction().execute(insert);
    return messages.map((message) => `outbox_${idByKey.get(message.idempotencyKey)!}`);
  }

  async list(filter: { campaignId?: string; to?: string; limit: number }): Promise<OutboxMessage[]> {
    let query = this.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.campaignId) query = query.where('campaign_id', '=', filter.campaignId);
    if (filter.to) query = query.where('to', '=', filter.to);
    const rows = await query.execute();
    return rows.map((row) => ({
      id: `outbox_${row.id}`,
      channel: row.channel,
      to: row.to,
      subject: row.subject,
      html: row.html,
      text: row.text,
      campaignId: row.campaign_id,
      executionId: row.execution_id,
      userId: row.user_id,
      createdAt: row.created_at,
    }));
  }
}
