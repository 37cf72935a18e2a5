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

export class OutboxRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Stores a message once per idempotency key and returns its id, like a provider that deduplicates. */
  async store(message: NewOutboxMessage): Promise<string> {
    // The no-op update on conflict makes RETURNING yield the first attempt's row: one statement either way.
    const row = await this.db
      .insertInto('outbox')
      .values({
        idempotency_key: message.idempotencyKey,
        channel: message.channel,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        campaign_id: message.campaignId,
        execution_id: message.executionId,
        user_id: message.userId,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('idempotency_key').doUpdateSet((eb) => ({ idempotency_key: eb.ref('excluded.idempotency_key') })))
      .returning('id')
      .executeTakeFirstOrThrow();
    return `outbox_${row.id}`;
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
