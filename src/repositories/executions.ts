import type { Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Database } from '../db/schema';
import type { Channel } from '../domain/campaign';
import type { Recipient, RecipientOutcome, RecipientStatus } from '../domain/recipient';

export type ExecutionStatus = 'running' | 'completed' | 'failed';

export interface ExecutionRecipientView {
  userId: string;
  status: RecipientStatus;
  reason?: string;
  profileCreated: boolean;
  messageId?: string;
}

export interface ExecutionView {
  executionId: string;
  requestId: string;
  campaignId: string;
  campaignVersion: number;
  status: ExecutionStatus;
  reason?: string;
  createdAt: string;
  completedAt?: string;
  recipients: ExecutionRecipientView[];
}

export interface NewExecution {
  id: string;
  requestId: string;
  requestHash: string;
  campaignId: string;
  campaignVersion: number;
  workflowId: string;
  channel: Channel;
  recipients: Recipient[];
}

export type ExecutionClaim =
  | { kind: 'created'; executionId: string; workflowId: string }
  | { kind: 'repeat'; executionId: string; workflowId: string; campaignId: string }
  | { kind: 'conflict'; executionId: string };

/** The failure reason of an execution whose workflow Temporal never received (see the orphan sweep). */
export const NOT_STARTED_REASON = 'not-started';

/**
 * Fails the deliveries of an execution that has no outcome yet: still pending, or closed as
 * not-started by the orphan sweep before a later run of the workflow was refused.
 */
async function failOpenDeliveries(trx: Transaction<Database>, executionId: string, reason: string, now: string): Promise<void> {
  await trx
    .updateTable('deliveries')
    .set({ status: 'failed', reason, updated_at: now })
    .where('execution_id', '=', executionId)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb('reason', '=', NOT_STARTED_REASON)]))
    .execute();
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

export class ExecutionRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * Claims a requestId. The first call creates the execution and its pending deliveries;
   * a repeat with the same request hash gets the same execution; a different body is a conflict.
   * The unique index on request_id decides, so callers that already looked the requestId up
   * (findClaim) do not pay for a second lookup.
   */
  async claim(execution: NewExecution): Promise<ExecutionClaim> {
    const now = new Date().toISOString();
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('executions')
          .values({
            id: execution.id,
            request_id: execution.requestId,
            request_hash: execution.requestHash,
            campaign_id: execution.campaignId,
            campaign_version: execution.campaignVersion,
            workflow_id: execution.workflowId,
            status: 'running',
            failure_reason: null,
            created_at: now,
            completed_at: null,
          })
          .execute();
        await trx
          .insertInto('deliveries')
          .values(execution.recipients.map((r, position) => ({ execution_id: execution.id, user_id: r.userId, position, namespace: r.namespace, channel: execution.channel, status: 'pending' as const, reason: null, address: null, message_id: null, updated_at: now })))
          .execute();
      });
      return { kind: 'created', executionId: execution.id, workflowId: execution.workflowId };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // An earlier or concurrent call with the same requestId won the insert.
      const winner = await this.findByRequestId(execution.requestId);
      if (!winner) throw error;
      return this.classifyRepeat(winner, execution.requestHash);
    }
  }

  private classifyRepeat(existing: { id: string; request_hash: string; workflow_id: string; campaign_id: string }, requestHash: string): ExecutionClaim {
    return existing.request_hash === requestHash
      ? { kind: 'repeat', executionId: existing.id, workflowId: existing.workflow_id, campaignId: existing.campaign_id }
      : { kind: 'conflict', executionId: existing.id };
  }

  /** The execution already recorded for a requestId, if any. */
  async findClaim(requestId: string): Promise<{ executionId: string; requestHash: string; workflowId: string } | undefined> {
    const row = await this.findByRequestId(requestId);
    return row && { executionId: row.id, requestHash: row.request_hash, workflowId: row.workflow_id };
  }

  private findByRequestId(requestId: string) {
    return this.db.selectFrom('executions').select(['id', 'request_hash', 'workflow_id', 'campaign_id']).where('request_id', '=', requestId).executeTakeFirst();
  }

  async get(executionId: string): Promise<ExecutionView | undefined> {
    const execution = await this.db.selectFrom('executions').selectAll().where('id', '=', executionId).executeTakeFirst();
    if (!execution) return undefined;
    const deliveries = await this.db.selectFrom('deliveries').selectAll().where('execution_id', '=', executionId).orderBy('position').execute();
    return {
      executionId: execution.id,
      requestId: execution.request_id,
      campaignId: execution.campaign_id,
      campaignVersion: execution.campaign_version,
      status: execution.status,
      ...(execution.failure_reason && { reason: execution.failure_reason }),
      createdAt: execution.created_at,
      ...(execution.completed_at && { completedAt: execution.completed_at }),
      recipients: deliveries.map((d) => ({
        userId: d.user_id,
        status: d.status,
        ...(d.reason && { reason: d.reason }),
        profileCreated: d.profile_created === 1,
        ...(d.message_id && { messageId: d.message_id }),
      })),
    };
  }

  /**
   * Writes all outcomes and closes the execution in one transaction: `failed` with the reason
   * when the run was refused (recipients still pending inherit it), else `completed`.
   */
  async complete(executionId: string, outcomes: RecipientOutcome[], failureReason?: string): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      for (const outcome of outcomes) {
        await trx
          .updateTable('deliveries')
          .set({
            status: outcome.status,
            reason: outcome.reason ?? null,
            profile_created: outcome.profileCreated ? 1 : 0,
            address: outcome.address ?? null,
            message_id: outcome.messageId ?? null,
            updated_at: now,
          })
          .where('execution_id', '=', executionId)
          .where('user_id', '=', outcome.userId)
          .execute();
      }
      await trx
        .updateTable('executions')
        .set({ status: failureReason ? 'failed' : 'completed', failure_reason: failureReason ?? null, completed_at: now })
        .where('id', '=', executionId)
        .execute();
      if (failureReason) await failOpenDeliveries(trx, executionId, failureReason, now);
    });
  }

  /**
   * Executions still `running`, claimed before `createdBefore`, whose workflow no sweep has
   * confirmed yet; oldest first, resuming after `after`. The keyset cursor lets a sweep walk past
   * executions it cannot decide on instead of reading the same oldest page forever.
   */
  async listUnconfirmedRunning(createdBefore: string, limit: number, after?: RunningExecutionCursor): Promise<RunningExecution[]> {
    let query = this.db
      .selectFrom('executions')
      .select(['id', 'workflow_id', 'created_at'])
      .where('status', '=', 'running')
      .where('workflow_confirmed_at', 'is', null)
      .where('created_at', '<', createdBefore);
    if (after) {
      query = query.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.executionId)])]));
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ executionId: row.id, workflowId: row.workflow_id, createdAt: row.created_at }));
  }

  /** Records that Temporal has this execution's workflow, so later sweeps skip it. */
  async confirmWorkflowStarted(executionId: string): Promise<void> {
    await this.db.updateTable('executions').set({ workflow_confirmed_at: new Date().toISOString() }).where('id', '=', executionId).execute();
  }

  /**
   * Fails an execution, and its still-pending deliveries, only if it is still `running`: an
   * execution its workflow completed in the meantime keeps its outcome. A later run of its
   * workflow (a client retry) still overwrites this with `complete`. Returns whether it failed it.
   */
  async failIfRunning(executionId: string, reason: string): Promise<boolean> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('executions')
        .set({ status: 'failed', failure_reason: reason, completed_at: now })
        .where('id', '=', executionId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await failOpenDeliveries(trx, executionId, reason, now);
      return true;
    });
  }
}

/** Where a sweep over running executions left off: the last row it read. */
export interface RunningExecutionCursor {
  createdAt: string;
  executionId: string;
}

export interface RunningExecution {
  executionId: string;
  workflowId: string;
  createdAt: string;
}
