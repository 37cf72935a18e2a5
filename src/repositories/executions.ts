import type { Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Database, DeliveryRow, DeliveryTable, ExecutionRow, ExecutionTable, HtTriggerTable } from '../db/schema';
import type { Insertable } from 'kysely';
import { audienceRunCounts } from './audience-run-counts';
import type { Channel } from '../domain/campaign';
import type { ChannelData, PositionOutcome, Recipient, RecipientOutcome, RecipientStatus } from '../domain/recipient';

export type { PositionOutcome };
import { isUniqueViolation } from '../db/unique-violation';
import { TrackingRepository, type EngagementCounts } from './tracking';
import { failureDetail } from '../domain/feedback-webhook';
import { FeedbackEventRepository } from './feedback-events';
import { recipientPositionOf, STEP_POSITION_STRIDE } from '../domain/campaign-steps';
import { ExecutionStepRepository, type StepView } from './execution-steps';
import { DigestRepository } from './digests';

/** `digested`: a trigger folded into another one's digest (src/repositories/digests.ts), which carries it on. */
export type ExecutionStatus = 'running' | 'completed' | 'failed' | 'digested';

export interface ExecutionRecipientView {
  userId: string;
  status: RecipientStatus;
  reason?: string;
  profileCreated: boolean;
  messageId?: string;
  /** Sent through a channel configuration: which one finally sent it, its provider, and whether it was a fallback (docs/failover.md). */
  configurationId?: string;
  provider?: string;
  failedOver?: boolean;
  /** The content variant the message was rendered from: `default` or a translation's tag. */
  locale?: string;
  /** Engagement (tracked messages only): opens and clicks recorded, repeats included. */
  opens?: number;
  clicks?: number;
}

/** A step as the execution status shows it; a send step's status is its message's outcome. */
export type RecipientStepView = Omit<StepView, 'status' | 'position'> & {
  status: StepView['status'] | RecipientStatus;
  messageId?: string;
  configurationId?: string;
  provider?: string;
  failedOver?: boolean;
};

export interface ExecutionCounts {
  sent: number;
  failed: number;
  excluded: number;
  pending: number;
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
  counts: ExecutionCounts;
  /** Set once retention removed the per-recipient details; the counts stay. */
  detailsPurgedAt?: string;
  /** Unitary executions list every recipient here; audience runs page them (GET …/recipients). */
  recipients?: (ExecutionRecipientView & { steps?: RecipientStepView[] })[];
  /** Campaigns whose first step is a digest: the execution carrying this trigger's digest. */
  digestExecutionId?: string;
  /** The execution that opened a digest: the triggers it gathered. */
  digest?: { count: number };
  kind: 'unitary' | 'audience';
  /** Audience runs only. */
  audience?: AudienceRunView;
}

/** What an audience run adds to the execution status. */
export interface AudienceRunView {
  audienceId: string;
  /** Members frozen at start; absent until the run starts (a scheduled run before it fires). */
  targetedProfileCount?: number;
  throttle?: { messagesPerSecond: number };
  schedule?: { scheduleId: string; executeAt: string };
  excludedByReason: Record<string, number>;
  /** Recipients with an outcome, of those targeted. */
  progress: { processed: number; targeted: number; percent: number };
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
  context?: Record<string, unknown>;
  startedByKeyId?: string;
}

/** What an audience execution records beside the columns every execution has (migration 0015). */
export type ExecutionKindColumns = Partial<
  Pick<Insertable<ExecutionTable>, 'kind' | 'audience_id' | 'throttle_per_second' | 'schedule_id' | 'execute_at' | 'cancellation_key'>
>;

export interface ExecutionClaimRecord {
  executionId: string;
  requestHash: string;
  workflowId: string;
  /** The campaign version the call was claimed under: a repeat starts that version's workflow. */
  campaignVersion: number;
  status: ExecutionStatus;
  failureReason?: string;
}

export type ExecutionClaim =
  | { kind: 'created'; executionId: string; workflowId: string }
  | { kind: 'repeat'; claim: ExecutionClaimRecord }
  | { kind: 'conflict'; executionId: string };

/** The failure reason of an execution whose workflow Temporal never received (see the orphan sweep). */
export const NOT_STARTED_REASON = 'not-started';

/** A recipient as the preparation step reads it back: the trigger call's data, by position. */
export interface StoredRecipient extends Recipient {
  position: number;
}

/**
 * Fails the deliveries of an execution that have no outcome yet: still pending, or closed as
 * not-started by the orphan sweep before a later run of the workflow was refused.
 */
async function failOpenDeliveries(trx: Transaction<Database>, executionId: string, reason: string, now: string): Promise<void> {
  const fail = trx
    .updateTable('deliveries')
    .set({ status: 'failed', reason, updated_at: now })
    .where('execution_id', '=', executionId)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb('reason', '=', NOT_STARTED_REASON)]));
  const feedback = new FeedbackEventRepository(trx);
  // Positions are read back (RETURNING) only for a deployment with webhook endpoints.
  if (!(await feedback.active(trx))) {
    await fail.execute();
    return;
  }
  const failed = await fail.returning('position').execute();
  const detail = failureDetail('execution', reason);
  await feedback.append(
    failed.map(({ position }) => ({ type: 'failed' as const, executionId, position: Number(position), occurredAt: now, detail })),
    trx,
  );
}

/** Closes the execution and stores its outcome counts, which outlive the per-recipient rows. */
export async function closeWithCounts(trx: Transaction<Database>, executionId: string, failureReason: string | undefined, now: string): Promise<ClosedCounts> {
  if (failureReason) await failOpenDeliveries(trx, executionId, failureReason, now);
  const counts = await trx
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('execution_id', '=', executionId)
    .groupBy('status')
    .execute();
  const count = (status: string) => Number(counts.find((row) => row.status === status)?.n ?? 0);
  const closed = { sent: count('sent'), failed: count('failed'), excluded: count('excluded') };
  await trx
    .updateTable('executions')
    .set({
      status: failureReason ? 'failed' : 'completed',
      failure_reason: failureReason ?? null,
      completed_at: now,
      sent_count: closed.sent,
      failed_count: closed.failed,
      excluded_count: closed.excluded,
    })
    .where('id', '=', executionId)
    .execute();
  return closed;
}

/** How a closed execution ended, in numbers. */
export interface ClosedCounts {
  sent: number;
  failed: number;
  excluded: number;
}

const parseJson = <T>(value: string | null): T | undefined => (value === null ? undefined : (JSON.parse(value) as T));

/** Which configuration sent a message, when one did (null columns: the channel's default, or not sent). */
function sentVia(d: Pick<DeliveryRow, 'configuration_id' | 'provider' | 'failed_over'>) {
  if (d.configuration_id === null) return {};
  return { configurationId: d.configuration_id, ...(d.provider !== null && { provider: d.provider }), failedOver: d.failed_over === 1 };
}

function recipientView(d: DeliveryRow, engagement?: Map<number, EngagementCounts>): ExecutionRecipientView {
  const tracked = d.tracking ? (engagement?.get(d.position) ?? { opens: 0, clicks: 0 }) : undefined;
  return {
    userId: d.user_id,
    status: d.status,
    ...(d.reason && { reason: d.reason }),
    profileCreated: d.profile_created === 1,
    ...(d.message_id && { messageId: d.message_id }),
    ...sentVia(d),
    ...(d.locale && { locale: d.locale }),
    ...(tracked && { opens: tracked.opens, clicks: tracked.clicks }),
  };
}

type StatusLineRow = Pick<ExecutionRow, 'id' | 'request_id' | 'campaign_id' | 'campaign_version' | 'status' | 'failure_reason' | 'created_at' | 'completed_at'>;

/** What every view of an execution starts with, its status and its listing alike: which call it is and how it stands. */
export function executionStatusLine(row: StatusLineRow) {
  return {
    executionId: row.id,
    requestId: row.request_id,
    campaignId: row.campaign_id,
    campaignVersion: row.campaign_version,
    status: row.status,
    ...(row.failure_reason && { reason: row.failure_reason }),
    createdAt: row.created_at,
    ...(row.completed_at && { completedAt: row.completed_at }),
  };
}

/**
 * What every execution's status starts with. Closed executions carry their counts; running ones
 * (and purged ones, which have no rows) are counted as they stand (`live`).
 */
function executionHeader(execution: ExecutionRow, live: ExecutionCounts): Omit<ExecutionView, 'kind'> & { counts: ExecutionCounts } {
  const closed = execution.status !== 'running';
  return {
    ...executionStatusLine(execution),
    counts: {
      sent: closed ? execution.sent_count : live.sent,
      failed: closed ? execution.failed_count : live.failed,
      excluded: closed ? execution.excluded_count : live.excluded,
      pending: live.pending,
    },
    ...(execution.details_purged_at && { detailsPurgedAt: execution.details_purged_at }),
  };
}

/** The row a claim inserts in `executions`: running, with the call's shared context. */
export function executionRow(execution: NewExecution, now: string, columns: ExecutionKindColumns = {}): Insertable<ExecutionTable> {
  return {
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
    workflow_checked_at: null,
    context: execution.context === undefined ? null : JSON.stringify(execution.context),
    started_by_key_id: execution.startedByKeyId ?? null,
    details_purged_at: null,
    ...columns,
  };
}

/** The pending deliveries a claim inserts, one per recipient at its position in the call. */
export function deliveryRows(execution: Pick<NewExecution, 'id' | 'channel' | 'recipients'>, now: string): Insertable<DeliveryTable>[] {
  return execution.recipients.map((r, position) => ({
    execution_id: execution.id,
    user_id: r.userId,
    position,
    namespace: r.namespace,
    channel: execution.channel,
    status: 'pending' as const,
    reason: null,
    address: null,
    message_id: null,
    updated_at: now,
    context: r.context === undefined ? null : JSON.stringify(r.context),
    channel_data: r.channelData === undefined ? null : JSON.stringify(r.channelData),
  }));
}

/** A high-throughput trigger's row of the dispatch queue (ADR 0010): unclaimed. */
export function queueRow(executionId: string, partition: number, now: string): Insertable<HtTriggerTable> {
  return { execution_id: executionId, dispatch_partition: partition, batch_id: null, accepted_at: now };
}

export class ExecutionRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * Claims a requestId. The first call creates the execution, stores the call's recipients and
   * context, and creates their pending deliveries (high-throughput triggers, and unitary triggers
   * answered before their start, are claimed in groups synced to disk by durable-claims.ts, with
   * the same rows); a repeat with the same request hash gets the
   * same execution; a different body is a conflict. The unique index on request_id decides.
   */
  async claim(execution: NewExecution, columns: ExecutionKindColumns = {}): Promise<ExecutionClaim> {
    const now = new Date().toISOString();
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('executions')
          .values(executionRow(execution, now, columns))
          .execute();
        // An audience execution has no recipient yet: its run freezes the audience's members when it starts.
        if (execution.recipients.length === 0) return;
        await trx.insertInto('deliveries').values(deliveryRows(execution, now)).execute();
      });
      return { kind: 'created', executionId: execution.id, workflowId: execution.workflowId };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // An earlier or concurrent call with the same requestId won the insert.
      const winner = await this.findClaim(execution.requestId);
      if (!winner) throw error;
      return winner.requestHash === execution.requestHash ? { kind: 'repeat', claim: winner } : { kind: 'conflict', executionId: winner.executionId };
    }
  }

  /** The execution already recorded for a requestId, if any, with where it stands. */
  async findClaim(requestId: string): Promise<ExecutionClaimRecord | undefined> {
    const row = await this.db
      .selectFrom('executions')
      .select(['id', 'request_hash', 'workflow_id', 'campaign_version', 'status', 'failure_reason'])
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return (
      row && {
        executionId: row.id,
        requestHash: row.request_hash,
        workflowId: row.workflow_id,
        campaignVersion: row.campaign_version,
        status: row.status,
        ...(row.failure_reason && { failureReason: row.failure_reason }),
      }
    );
  }

  /** The API key that started an execution: null when none did, undefined when there is no such execution. */
  async startedByKeyId(executionId: string): Promise<string | null | undefined> {
    const row = await this.db.selectFrom('executions').select('started_by_key_id').where('id', '=', executionId).executeTakeFirst();
    return row ? row.started_by_key_id : undefined;
  }

  /** The id of the workflow that runs an execution; undefined when there is no such execution. */
  async workflowIdOf(executionId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('executions').select('workflow_id').where('id', '=', executionId).executeTakeFirst();
    return row?.workflow_id;
  }

  /** The running executions of a campaign triggered with this cancellationKey (at most `limit`), for POST /v1/executions/cancel. */
  async runningWithCancellationKey(campaignId: string, cancellationKey: string, limit: number): Promise<{ executionId: string; workflowId: string }[]> {
    const rows = await this.db
      .selectFrom('executions')
      .select(['id', 'workflow_id'])
      .where('campaign_id', '=', campaignId)
      .where('cancellation_key', '=', cancellationKey)
      .where('status', '=', 'running')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ executionId: row.id, workflowId: row.workflow_id }));
  }

  /** The campaign and version an execution runs; undefined when there is no such execution. */
  async campaignVersionOf(executionId: string): Promise<{ campaignId: string; campaignVersion: number } | undefined> {
    const row = await this.db.selectFrom('executions').select(['campaign_id', 'campaign_version']).where('id', '=', executionId).executeTakeFirst();
    return row && { campaignId: row.campaign_id, campaignVersion: row.campaign_version };
  }

  async get(executionId: string): Promise<ExecutionView | undefined> {
    const execution = await this.db.selectFrom('executions').selectAll().where('id', '=', executionId).executeTakeFirst();
    if (!execution) return undefined;
    if (execution.kind === 'audience') return this.audienceView(execution);
    const deliveries = await this.db.selectFrom('deliveries').selectAll().where('execution_id', '=', executionId).orderBy('position').execute();
    const live = (status: RecipientStatus) => deliveries.filter((d) => d.status === status).length;
    // Engagement is counted only for executions with tracked messages: the others cost no query.
    const engagement = deliveries.some((d) => d.tracking) ? await new TrackingRepository(this.db).countsByPosition(executionId) : undefined;
    // Campaign steps: each recipient's steps, a send step with its message's outcome (later sends sit at positions beyond the call's).
    const stepRows = await new ExecutionStepRepository(this.db).forExecution(executionId);
    const steps = stepRows.size > 0 || deliveries.some((d) => d.step_id !== null) ? stepRows : undefined;
    const messageOf = (recipient: number, stepId: string) => deliveries.find((d) => d.step_id === stepId && recipientPositionOf(d.position) === recipient);
    const stepsOf = (recipient: number) =>
      (steps?.get(recipient) ?? []).map(({ position: _, ...step }) => {
        const message = step.type === 'send' ? messageOf(recipient, step.id) : undefined;
        if (!message) return step;
        return {
          ...step,
          status: message.status,
          at: message.updated_at,
          ...(message.reason ? { reason: message.reason } : {}),
          ...(message.message_id && { messageId: message.message_id }),
          ...sentVia(message),
        };
      });
    const digestCount = execution.digest_execution_id === executionId ? (await new DigestRepository(this.db).count(executionId)).count : undefined;
    return {
      ...executionHeader(execution, { sent: live('sent'), failed: live('failed'), excluded: live('excluded'), pending: live('pending') }),
      ...(execution.digest_execution_id && { digestExecutionId: execution.digest_execution_id }),
      ...(digestCount !== undefined && { digest: { count: digestCount } }),
      recipients: deliveries
        .filter((d) => d.position < STEP_POSITION_STRIDE)
        .map((d) => ({ ...recipientView(d, engagement), ...(steps && { steps: stepsOf(d.position) }) })),
      kind: 'unitary',
    };
  }

  /** An audience run's status: counts by a grouped query, never its recipients (they are paged). */
  private async audienceView(execution: ExecutionRow): Promise<ExecutionView> {
    const live = await audienceRunCounts(this.db, execution.id);
    const header = executionHeader(execution, live);
    const { counts } = header;
    const targeted = execution.targeted_count ?? 0;
    const processed = counts.sent + counts.failed + counts.excluded;
    const closed = execution.status !== 'running';
    return {
      ...header,
      kind: 'audience',
      audience: {
        audienceId: execution.audience_id ?? '',
        ...(execution.targeted_count !== null && { targetedProfileCount: execution.targeted_count }),
        ...(execution.throttle_per_second !== null && { throttle: { messagesPerSecond: execution.throttle_per_second } }),
        ...(execution.schedule_id && execution.execute_at && { schedule: { scheduleId: execution.schedule_id, executeAt: execution.execute_at } }),
        excludedByReason: live.excludedByReason,
        progress: { processed, targeted, percent: targeted === 0 ? (closed ? 100 : 0) : Math.floor((processed * 1000) / targeted) / 10 },
      },
    };
  }

  /** One page of an execution's recipients in position order, after `afterPosition`; undefined for an unknown execution. */
  async recipientsPage(
    executionId: string,
    afterPosition: number,
    limit: number,
  ): Promise<{ items: (ExecutionRecipientView & { position: number })[]; nextAfter?: number } | undefined> {
    const execution = await this.db.selectFrom('executions').select('id').where('id', '=', executionId).executeTakeFirst();
    if (!execution) return undefined;
    const rows = await this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('execution_id', '=', executionId)
      .where('position', '>', afterPosition)
      .orderBy('position')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const engagement = page.some((d) => d.tracking) ? await new TrackingRepository(this.db).countsByPosition(executionId) : undefined;
    return {
      items: page.map((d) => ({ position: d.position, ...recipientView(d, engagement) })),
      ...(rows.length > limit && { nextAfter: page[page.length - 1]!.position }),
    };
  }

  /** The trigger call's data for the preparation step: shared context and every recipient, in order. */
  async storedRequest(
    executionId: string,
  ): Promise<{ campaignId: string; campaignVersion: number; context?: Record<string, unknown>; recipients: StoredRecipient[] } | undefined> {
    const execution = await this.db
      .selectFrom('executions')
      .select(['campaign_id', 'campaign_version', 'context'])
      .where('id', '=', executionId)
      .executeTakeFirst();
    if (!execution) return undefined;
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['position', 'user_id', 'namespace', 'context', 'channel_data'])
      .where('execution_id', '=', executionId)
      // A unitary call's recipients; the messages of later campaign steps sit at positions of their own beyond.
      .where('position', '<', STEP_POSITION_STRIDE)
      .orderBy('position')
      .execute();
    const context = parseJson<Record<string, unknown>>(execution.context);
    return {
      campaignId: execution.campaign_id,
      // The version it was accepted at: preparation renders that version, whatever is live now.
      campaignVersion: execution.campaign_version,
      ...(context && { context }),
      recipients: rows.map((row) => {
        const own = parseJson<Record<string, unknown>>(row.context);
        const channelData = parseJson<ChannelData>(row.channel_data);
        return { position: row.position, userId: row.user_id, namespace: row.namespace, ...(own && { context: own }), ...(channelData && { channelData }) };
      }),
    };
  }

  /**
   * Old-path close (executions started before the references-not-content patch report outcomes
   * by userId). Writes all outcomes and closes the execution in one transaction: `failed` with the
   * reason when the run was refused (recipients still pending inherit it), else `completed`.
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
      await closeWithCounts(trx, executionId, failureReason, now);
    });
  }

  /**
   * Closes an execution from the reference-based workflow. The preparation and send activities
   * already wrote each recipient's outcome with its full reason; an outcome given here applies
   * only to a recipient still pending (a send that timed out, say), so it never overwrites one.
   */
  async close(executionId: string, outcomes: PositionOutcome[], failureReason?: string): Promise<ClosedCounts> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      for (const outcome of outcomes) {
        await trx
          .updateTable('deliveries')
          .set({ status: outcome.status, reason: outcome.reason ?? null, updated_at: now })
          .where('execution_id', '=', executionId)
          .where('position', '=', outcome.position)
          .where((eb) => eb.or([eb('status', '=', 'pending'), eb('reason', '=', NOT_STARTED_REASON)]))
          .execute();
      }
      return closeWithCounts(trx, executionId, failureReason, now);
    });
  }

  /**
   * Running executions claimed before `createdBefore` whose workflow no sweep has checked since
   * `checkedBefore`; oldest first, resuming after `after`. The keyset cursor lets a sweep walk
   * past executions it cannot decide on instead of reading the same oldest page forever.
   */
  async listRunningToCheck(createdBefore: string, checkedBefore: string, limit: number, after?: RunningExecutionCursor): Promise<RunningExecution[]> {
    let query = this.db
      .selectFrom('executions')
      .select(['id', 'workflow_id', 'created_at', 'request_id', 'campaign_id', 'campaign_version', 'kind'])
      .where('status', '=', 'running')
      // High-throughput executions have no workflow of their own: their partition's dispatcher sends them (ADR 0010).
      .where('workflow_id', 'not like', 'ht-dispatcher/%')
      .where('created_at', '<', createdBefore)
      .where((eb) => eb.or([eb('workflow_checked_at', 'is', null), eb('workflow_checked_at', '<', checkedBefore)]));
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.executionId)])]),
      );
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      executionId: row.id,
      workflowId: row.workflow_id,
      createdAt: row.created_at,
      requestId: row.request_id,
      campaignId: row.campaign_id,
      campaignVersion: row.campaign_version,
      kind: row.kind,
    }));
  }

  /** How many recipients an execution has deliveries for: a unitary trigger's, the recipients of its call. */
  async recipientCount(executionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('execution_id', '=', executionId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /**
   * Reopens an execution the orphan sweep closed as not-started, when a retry of the same call is
   * about to start its workflow after all: it shows as running again until the workflow closes it.
   */
  async reopenNotStarted(executionId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const reopened = await trx
        .updateTable('executions')
        .set({ status: 'running', failure_reason: null, completed_at: null, workflow_checked_at: null })
        .where('id', '=', executionId)
        .where('status', '=', 'failed')
        .where('failure_reason', '=', NOT_STARTED_REASON)
        .executeTakeFirst();
      if (reopened.numUpdatedRows === 0n) return;
      await trx
        .updateTable('deliveries')
        .set({ status: 'pending', reason: null, updated_at: new Date().toISOString() })
        .where('execution_id', '=', executionId)
        .where('status', '=', 'failed')
        .where('reason', '=', NOT_STARTED_REASON)
        .execute();
    });
  }

  /** Records that Temporal still runs this execution's workflow, so sweeps skip it for a while. */
  async markWorkflowChecked(executionId: string): Promise<void> {
    await this.db.updateTable('executions').set({ workflow_checked_at: new Date().toISOString() }).where('id', '=', executionId).execute();
  }

  /**
   * Fails an execution, and its still-pending deliveries, only if it is still `running`: an
   * execution its workflow completed in the meantime keeps its outcome. A later run of its
   * workflow (a client retry) still overwrites this when it closes. Returns whether it failed it.
   */
  async failIfRunning(executionId: string, reason: string): Promise<boolean> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      // The conditional update decides, so two sweeps (or a sweep and a closing workflow) cannot both win.
      const result = await trx
        .updateTable('executions')
        .set({ status: 'failed' })
        .where('id', '=', executionId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await closeWithCounts(trx, executionId, reason, now);
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
  requestId: string;
  campaignId: string;
  campaignVersion: number;
  kind: 'unitary' | 'audience';
}
