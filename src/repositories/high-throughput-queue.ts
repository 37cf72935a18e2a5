import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import { dialectOf, valuesTable } from '../db/dialect';
import { inTransaction } from '../db/in-transaction';
import type { Recipient } from '../domain/recipient';
import { closeWithCounts } from './executions';
import { FeedbackEventRepository } from './feedback-events';

/** One queued trigger as its batch sends it: the call's data, read back by executionId. */
export interface QueuedTrigger {
  executionId: string;
  campaignId: string;
  campaignVersion: number;
  context?: Record<string, unknown>;
  recipients: (Recipient & { position: number; status: 'pending' | 'sent' | 'failed' | 'excluded' })[];
}

/** A batch of one partition: its id (the provider keys derive from it) and its executions, in a fixed order. */
export interface ClaimedBatch {
  batchId: string;
  executionIds: string[];
  /** True when the batch was claimed by an earlier attempt and is being finished now. */
  resumed: boolean;
}

/** An email the provider accepted, with what the execution status shows of it. */
export interface SentMessage {
  executionId: string;
  position: number;
  messageId: string;
  address: string;
  locale?: string;
}

const parseJson = <T>(value: string | null): T | undefined => (value === null ? undefined : (JSON.parse(value) as T));

/**
 * The high-throughput dispatch queue (`ht_triggers`, migration 0031, ADR 0010). One dispatcher
 * per partition is its only writer, so a claim needs no row locks on either dialect.
 */
export class HighThroughputQueue {
  private readonly feedback: FeedbackEventRepository;

  constructor(private readonly db: HeraldDb) {
    this.feedback = new FeedbackEventRepository(db);
  }

  /**
   * The partition's next batch: one claimed earlier and not finished (an attempt that died
   * mid-batch), else up to `limit` unclaimed triggers, oldest first, stamped with `newBatchId`.
   * Undefined when there is nothing to send.
   */
  async claim(partition: number, limit: number, newBatchId: string): Promise<ClaimedBatch | undefined> {
    const open = await this.db
      .selectFrom('ht_triggers')
      .select('batch_id')
      .where('dispatch_partition', '=', partition)
      .where('batch_id', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    const batchId = open?.batch_id ?? newBatchId;
    if (!open) {
      await this.db
        .updateTable('ht_triggers')
        .set({ batch_id: newBatchId })
        .where('execution_id', 'in', (eb) =>
          eb
            .selectFrom('ht_triggers')
            .select('execution_id')
            .where('dispatch_partition', '=', partition)
            .where('batch_id', 'is', null)
            .orderBy('execution_id')
            .limit(limit),
        )
        .execute();
    }
    const rows = await this.db.selectFrom('ht_triggers').select('execution_id').where('batch_id', '=', batchId).orderBy('execution_id').execute();
    if (rows.length === 0) return undefined;
    return { batchId, executionIds: rows.map((row) => row.execution_id), resumed: open !== undefined };
  }

  /**
   * The partitions, from `from` up, that hold queued triggers (claimed or not), ascending. One
   * index lookup per partition found plus one (the claim index leads with the partition), however
   * long the queue: no scan of its rows.
   */
  async partitionsHoldingTriggers(from = 0): Promise<number[]> {
    const found: number[] = [];
    for (let next = from; ; ) {
      const row = await this.db
        .selectFrom('ht_triggers')
        .select('dispatch_partition')
        .where('dispatch_partition', '>=', next)
        .orderBy('dispatch_partition')
        .limit(1)
        .executeTakeFirst();
      if (!row) return found;
      found.push(row.dispatch_partition);
      next = row.dispatch_partition + 1;
    }
  }

  /** The batch's triggers: each execution's campaign, version and context, and its recipients by position. */
  async load(executionIds: string[]): Promise<QueuedTrigger[]> {
    if (executionIds.length === 0) return [];
    const [executions, deliveries] = await Promise.all([
      this.db.selectFrom('executions').select(['id', 'campaign_id', 'campaign_version', 'context']).where('id', 'in', executionIds).execute(),
      this.db
        .selectFrom('deliveries')
        .select(['execution_id', 'position', 'user_id', 'namespace', 'status', 'context', 'channel_data'])
        .where('execution_id', 'in', executionIds)
        .orderBy('execution_id')
        .orderBy('position')
        .execute(),
    ]);
    const byId = new Map(executions.map((e) => [e.id, e]));
    return executionIds.flatMap((executionId) => {
      const execution = byId.get(executionId);
      if (!execution) return [];
      const context = parseJson<Record<string, unknown>>(execution.context);
      return [
        {
          executionId,
          campaignId: execution.campaign_id,
          campaignVersion: execution.campaign_version,
          ...(context && { context }),
          recipients: deliveries
            .filter((d) => d.execution_id === executionId)
            .map((d) => {
              const own = parseJson<Record<string, unknown>>(d.context);
              const channelData = parseJson<Recipient['channelData']>(d.channel_data);
              return {
                position: d.position,
                userId: d.user_id,
                namespace: d.namespace,
                status: d.status,
                ...(own && { context: own }),
                ...(channelData && { channelData }),
              };
            }),
        },
      ];
    });
  }

  /**
   * Records one accepted email block in one statement (and its feedback events) in one
   * transaction, so a resumed batch skips it whole. Only deliveries still pending change: what an
   * earlier attempt recorded is not recorded twice.
   */
  async recordSent(messages: SentMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const now = new Date().toISOString();
    await inTransaction(this.db, async (trx) => {
      const sent = valuesTable(
        trx,
        'sent',
        ['execution_id', 'position', 'message_id', 'address', 'locale'],
        messages.map((m) => [m.executionId, m.position, m.messageId, m.address, m.locale ?? null]),
      );
      // pg binds every value as text: the position is compared as the integer it is.
      const position = dialectOf(trx) === 'postgres' ? sql`cast(${sql.ref('sent.position')} as integer)` : sql.ref('sent.position');
      const { rows } = await sql<{ execution_id: string; position: number }>`
        update deliveries
        set status = 'sent', reason = null, message_id = ${sql.ref('sent.message_id')}, address = ${sql.ref('sent.address')},
            locale = ${sql.ref('sent.locale')}, updated_at = ${now}
        from ${sent}
        where deliveries.execution_id = ${sql.ref('sent.execution_id')} and deliveries.position = ${position} and deliveries.status = 'pending'
        returning deliveries.execution_id, deliveries.position`.execute(trx);
      await this.feedback.append(
        rows.map((row) => ({ type: 'sent' as const, executionId: row.execution_id, position: Number(row.position), occurredAt: now })),
        trx,
      );
    });
  }

  /**
   * Ends a batch in one transaction: closes each execution with its counts (as every trigger's
   * close does; failed with its reason when `failureReasons` gives one) and deletes the batch's queue rows, so it is never claimed again.
   */
  async finish(batchId: string, executionIds: string[], failureReasons: ReadonlyMap<string, string> = new Map()): Promise<void> {
    const now = new Date().toISOString();
    await inTransaction(this.db, async (trx) => {
      // A failure reason (the campaign refused the trigger) fails what the execution has not sent, as every trigger's close does.
      for (const [executionId, reason] of failureReasons) await closeWithCounts(trx, executionId, reason, now);
      // The rest in one statement per few hundred: the counts closeWithCounts stores, counted in SQL.
      const completed = executionIds.filter((id) => !failureReasons.has(id));
      for (let i = 0; i < completed.length; i += 500) {
        await trx
          .updateTable('executions')
          .set((eb) => {
            const count = (status: 'sent' | 'failed' | 'excluded') =>
              eb
                .selectFrom('deliveries')
                .select((d) => d.fn.countAll<number>().as('n'))
                .whereRef('deliveries.execution_id', '=', 'executions.id')
                .where('deliveries.status', '=', status);
            return {
              status: 'completed',
              failure_reason: null,
              completed_at: now,
              sent_count: count('sent'),
              failed_count: count('failed'),
              excluded_count: count('excluded'),
            };
          })
          .where('id', 'in', completed.slice(i, i + 500))
          .execute();
      }
      await trx.deleteFrom('ht_triggers').where('batch_id', '=', batchId).execute();
    });
  }
}
