import type { HeraldDb } from '../db/database';
import { readJson } from '../db/dialect';
import { isUniqueViolation } from '../db/unique-violation';
import { MAX_DIGEST_EVENTS } from '../domain/campaign-steps';
import { mergeContext } from '../domain/recipient';

/** The reason a trigger folded into another one's digest closes with. */
export const DIGESTED_REASON = 'digested';

export type DigestJoin =
  /** This trigger opened the digest: its run waits until `closesAtMs`, then carries on for all. */
  | { kind: 'opened'; closesAtMs: number }
  /** Folded into the digest `digestExecutionId` opened; this execution is closed as `digested`. */
  | { kind: 'joined'; digestExecutionId: string };

export interface DigestToJoin {
  executionId: string;
  campaignId: string;
  /** The campaign, recipient and rendered key, hashed: triggers with the same one gather. */
  openKey: string;
  nowMs: number;
  windowMs: number;
}

/**
 * Digests (src/domain/campaign-steps.ts): triggers of one campaign for one recipient and key that
 * arrive within the window of the first form one digest, carried on by the first one's run. Who
 * belongs to a digest is kept here (executions.digest_execution_id); when it ends is a timer in
 * the opening run's workflow.
 *
 * Races: a join locks the digest's row by updating it (`closes_at` to itself) while it is open,
 * and the close clears `open_key` by updating the same row, so each join lands either before the
 * close (and is counted) or after it (and opens the next digest). Two triggers opening the same
 * key at once meet on the unique `open_key`; the loser joins the winner.
 */
export class DigestRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Joins or opens the digest for this trigger. Safe to repeat: an execution already placed gets the same answer. */
  async join(digest: DigestToJoin, attempts = 3): Promise<DigestJoin> {
    const placed = await this.placed(digest.executionId);
    if (placed) return placed;
    const now = new Date(digest.nowMs).toISOString();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const open = await trx
          .updateTable('digests')
          .set((eb) => ({ closes_at: eb.ref('closes_at') }))
          .where('open_key', '=', digest.openKey)
          .where('closes_at', '>', now)
          .returning('execution_id')
          .executeTakeFirst();
        if (open) {
          const completedAt = new Date().toISOString();
          await trx
            .updateTable('executions')
            .set({ digest_execution_id: open.execution_id, status: 'digested', completed_at: completedAt, excluded_count: 1, sent_count: 0, failed_count: 0 })
            .where('id', '=', digest.executionId)
            .execute();
          // The trigger's recipient gets its message through the digest's run, not this one.
          await trx
            .updateTable('deliveries')
            .set({ status: 'excluded', reason: DIGESTED_REASON, updated_at: completedAt })
            .where('execution_id', '=', digest.executionId)
            .where('status', '=', 'pending')
            .execute();
          return { kind: 'joined' as const, digestExecutionId: open.execution_id };
        }
        // A digest whose window passed while its run has not closed it yet no longer takes this key.
        await trx.updateTable('digests').set({ open_key: null }).where('open_key', '=', digest.openKey).where('closes_at', '<=', now).execute();
        const closesAtMs = digest.nowMs + digest.windowMs;
        await trx
          .insertInto('digests')
          .values({
            execution_id: digest.executionId,
            campaign_id: digest.campaignId,
            open_key: digest.openKey,
            opened_at: now,
            closes_at: new Date(closesAtMs).toISOString(),
            closed_at: null,
          })
          .execute();
        await trx.updateTable('executions').set({ digest_execution_id: digest.executionId }).where('id', '=', digest.executionId).execute();
        return { kind: 'opened' as const, closesAtMs };
      });
    } catch (error) {
      if (!isUniqueViolation(error) || attempts <= 1) throw error;
      return this.join(digest, attempts - 1);
    }
  }

  private async placed(executionId: string): Promise<DigestJoin | undefined> {
    const row = await this.db
      .selectFrom('executions as e')
      .leftJoin('digests as d', 'd.execution_id', 'e.id')
      .select(['e.digest_execution_id', 'd.closes_at'])
      .where('e.id', '=', executionId)
      .executeTakeFirst();
    if (!row?.digest_execution_id) return undefined;
    if (row.digest_execution_id !== executionId) return { kind: 'joined', digestExecutionId: row.digest_execution_id };
    return { kind: 'opened', closesAtMs: Date.parse(row.closes_at ?? '') };
  }

  /** Stops the digest taking triggers (its window ended, or its run was cancelled) and counts them. */
  async close(executionId: string): Promise<{ count: number }> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('digests')
        .set({ open_key: null, closed_at: new Date().toISOString() })
        .where('execution_id', '=', executionId)
        .where('closed_at', 'is', null)
        .execute();
      const row = await trx
        .selectFrom('executions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('digest_execution_id', '=', executionId)
        .executeTakeFirst();
      return { count: Number(row?.n ?? 0) };
    });
  }

  /** What a digest's templates see: how many triggers it gathered and their contexts, oldest first (at most 100). */
  async templateData(executionId: string): Promise<{ count: number; events: Record<string, unknown>[] }> {
    const members = await this.db
      .selectFrom('executions as e')
      .leftJoin('deliveries as d', (join) => join.onRef('d.execution_id', '=', 'e.id').on('d.position', '=', 0))
      .select(['e.context', 'd.context as recipient_context'])
      .where('e.digest_execution_id', '=', executionId)
      .orderBy('e.created_at')
      .orderBy('e.id')
      .limit(MAX_DIGEST_EVENTS)
      .execute();
    const { count } = await this.count(executionId);
    const parse = (value: string | null) => (value ? readJson<Record<string, unknown>>(value) : undefined);
    return { count, events: members.map((m) => mergeContext(parse(m.context), parse(m.recipient_context))) };
  }

  /** Triggers gathered in the digest an execution opened (itself included). */
  async count(executionId: string): Promise<{ count: number }> {
    const row = await this.db
      .selectFrom('executions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('digest_execution_id', '=', executionId)
      .executeTakeFirst();
    return { count: Number(row?.n ?? 0) };
  }
}
