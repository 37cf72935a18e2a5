import type { HeraldDb } from '../db/database';

export interface PurgedBatch {
  executions: number;
  deliveries: number;
  renderedMessages: number;
  outboxMessages: number;
}

/**
 * Removes what an execution held about its recipients once it is old enough: the trigger's
 * context, the deliveries (addresses, reasons, provider ids), the rendered messages and the
 * outbox copies, and the tracked links and engagement events. The execution row stays, with its
 * outcome counts and `details_purged_at`.
 */
export class RetentionRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Forgets events received before `receivedBefore` (kept only so a repeated eventId answers the same). */
  async purgeReceivedEvents(receivedBefore: string): Promise<number> {
    const result = await this.db.deleteFrom('inbound_events').where('received_at', '<', receivedBefore).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Purges up to `limit` executions closed before `completedBefore`, oldest first, in one transaction. */
  async purgeExecutionDetails(completedBefore: string, limit: number): Promise<PurgedBatch> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('executions')
        .select('id')
        .where('details_purged_at', 'is', null)
        .where('completed_at', 'is not', null)
        .where('completed_at', '<', completedBefore)
        // A trigger folded into a digest keeps its context until the digest's run has rendered it.
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('executions as digest')
                .select('digest.id')
                .whereRef('digest.id', '=', 'executions.digest_execution_id')
                .where('digest.status', '=', 'running'),
            ),
          ),
        )
        .orderBy('completed_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      const ids = rows.map((row) => row.id);
      if (ids.length === 0) return { executions: 0, deliveries: 0, renderedMessages: 0, outboxMessages: 0 };
      const renderedMessages = await trx.deleteFrom('rendered_messages').where('execution_id', 'in', ids).executeTakeFirst();
      const outboxMessages = await trx.deleteFrom('outbox').where('execution_id', 'in', ids).executeTakeFirst();
      // Engagement goes with the deliveries: tracked links (their URLs may carry personal data) and events.
      await trx.deleteFrom('tracked_links').where('execution_id', 'in', ids).execute();
      await trx.deleteFrom('delivery_events').where('execution_id', 'in', ids).execute();
      const deliveries = await trx.deleteFrom('deliveries').where('execution_id', 'in', ids).executeTakeFirst();
      // Campaign steps: where each recipient stood, the digest a run opened, and the caller's cancellationKey.
      await trx.deleteFrom('execution_steps').where('execution_id', 'in', ids).execute();
      await trx.deleteFrom('digests').where('execution_id', 'in', ids).execute();
      await trx.updateTable('executions').set({ details_purged_at: now, context: null, cancellation_key: null }).where('id', 'in', ids).execute();
      return {
        executions: ids.length,
        deliveries: Number(deliveries.numDeletedRows),
        renderedMessages: Number(renderedMessages.numDeletedRows),
        outboxMessages: Number(outboxMessages.numDeletedRows),
      };
    });
  }
}
