import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { Database } from '../db/schema';
import type { Channel } from '../domain/campaign';
import { readJson } from '../db/dialect';
import type { Consents } from '../domain/consent';
import type { PushTarget } from '../domain/push';
import { audienceRunCounts, type AudienceRunCounts } from './audience-run-counts';
import { closeWithCounts, ExecutionRepository, type ClosedCounts, type ExecutionClaim } from './executions';

export type { AudienceRunCounts } from './audience-run-counts';
import { failureDetail } from '../domain/feedback-webhook';
import { FeedbackEventRepository } from './feedback-events';
import { InboxRepository, type NewInboxMessage } from './inbox';

export interface NewAudienceExecution {
  id: string;
  requestId: string;
  requestHash: string;
  campaignId: string;
  campaignVersion: number;
  workflowId: string;
  audienceId: string;
  context?: Record<string, unknown>;
  throttlePerSecond?: number;
  /** A scheduled run: its id and when it fires. */
  schedule?: { id: string; executeAt: string };
  startedByKeyId?: string;
}

/** What an audience run reads once it starts, and each batch after. */
export interface AudienceRunRecord {
  executionId: string;
  campaignId: string;
  campaignVersion: number;
  audienceId: string;
  context?: Record<string, unknown>;
  throttlePerSecond?: number;
  targeted?: number;
  runStartedAt?: string;
  cancelledAt?: string;
}

/** One member of a frozen audience, by its position in the run. */
export interface AudienceMember {
  position: number;
  userId: string;
  namespace: string;
}

export interface AudienceScheduleRecord {
  scheduleId: string;
  executionId: string;
  campaignId: string;
  audienceId: string;
  executeAt: string;
  runStartedAt?: string;
  cancelledAt?: string;
  createdAt: string;
  startedByKeyId?: string;
}

/** What preparation needs of a member's profile. */
export interface BatchProfile {
  attributes: Record<string, unknown>;
  consents: Consents;
  locale?: string | null;
  pushTokens?: PushTarget[];
}

/** One rendered email of a block, with its recipient's address. */
export interface BatchMessage {
  position: number;
  userId: string;
  address: string;
  subject: string | null;
  html: string | null;
  text: string | null;
}

/** How many deliveries one update of markSentMany marks sent (three bound values each). */
const SENT_ROWS_PER_UPDATE = 1000;

/** Counts of a run as they stand, with exclusions by reason. */
type Db = Kysely<Database> | Transaction<Database>;

/**
 * The audience side of executions: claiming a call, freezing its members into deliveries at
 * start (an INSERT … SELECT, never loading the audience into memory), reading and closing them by
 * position ranges, and scheduled runs. Per-recipient preparation and sends reuse the delivery
 * repository, as unitary executions do.
 */
export class AudienceRunRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Claims a requestId as unitary calls do (ExecutionRepository.claim), with no recipient yet. */
  async claim(execution: NewAudienceExecution, channel: Channel): Promise<ExecutionClaim> {
    const { audienceId, throttlePerSecond, schedule, ...common } = execution;
    return new ExecutionRepository(this.db).claim(
      { ...common, channel, recipients: [] },
      {
        kind: 'audience',
        audience_id: audienceId,
        throttle_per_second: throttlePerSecond ?? null,
        schedule_id: schedule?.id ?? null,
        execute_at: schedule?.executeAt ?? null,
      },
    );
  }

  async run(executionId: string): Promise<AudienceRunRecord | undefined> {
    const row = await this.db
      .selectFrom('executions')
      .select([
        'id',
        'campaign_id',
        'campaign_version',
        'audience_id',
        'context',
        'throttle_per_second',
        'targeted_count',
        'run_started_at',
        'schedule_cancelled_at',
        'kind',
      ])
      .where('id', '=', executionId)
      .executeTakeFirst();
    if (row?.kind !== 'audience' || !row.audience_id) return undefined;
    return {
      executionId: row.id,
      campaignId: row.campaign_id,
      campaignVersion: row.campaign_version,
      audienceId: row.audience_id,
      ...(row.context !== null && { context: JSON.parse(row.context) as Record<string, unknown> }),
      ...(row.throttle_per_second !== null && { throttlePerSecond: row.throttle_per_second }),
      ...(row.targeted_count !== null && { targeted: row.targeted_count }),
      ...(row.run_started_at && { runStartedAt: row.run_started_at }),
      ...(row.schedule_cancelled_at && { cancelledAt: row.schedule_cancelled_at }),
    };
  }

  /**
   * Freezes the audience: one pending delivery per member, numbered in userId order, in one
   * statement, and marks the run started at `startedAt`. Done once: a retry (or a cancelled
   * schedule) finds the run already frozen (or cancelled) and changes nothing.
   */
  async freeze(
    executionId: string,
    channel: Channel,
    namespace: string,
    startedAt: string,
    members: (db: Db) => SelectQueryBuilder<Database, any, { user_id: string }>,
  ): Promise<{ kind: 'frozen'; targeted: number; runStartedAt: string } | { kind: 'cancelled' }> {
    return this.db.transaction().execute(async (trx) => {
      const started = await trx
        .updateTable('executions')
        .set({ run_started_at: startedAt })
        .where('id', '=', executionId)
        .where('run_started_at', 'is', null)
        .where('schedule_cancelled_at', 'is', null)
        .executeTakeFirst();
      if (started.numUpdatedRows > 0n) {
        const now = new Date().toISOString();
        await trx
          .insertInto('deliveries')
          .columns(['execution_id', 'user_id', 'position', 'namespace', 'channel', 'status', 'updated_at'])
          .expression(
            trx
              .selectFrom(members(trx).as('m'))
              .select([
                sql<string>`cast(${executionId} as text)`.as('execution_id'),
                'm.user_id',
                sql<number>`row_number() over (order by m.user_id) - 1`.as('position'),
                sql<string>`cast(${namespace} as text)`.as('namespace'),
                sql<string>`cast(${channel} as text)`.as('channel'),
                sql<string>`cast('pending' as text)`.as('status'),
                sql<string>`cast(${now} as text)`.as('updated_at'),
              ]),
          )
          .execute();
        const { n } = await trx
          .selectFrom('deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('execution_id', '=', executionId)
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('executions')
          .set({ targeted_count: Number(n) })
          .where('id', '=', executionId)
          .execute();
      }
      const row = await trx
        .selectFrom('executions')
        .select(['targeted_count', 'run_started_at', 'schedule_cancelled_at'])
        .where('id', '=', executionId)
        .executeTakeFirstOrThrow();
      if (row.schedule_cancelled_at || row.run_started_at === null) return { kind: 'cancelled' as const };
      return { kind: 'frozen' as const, targeted: row.targeted_count ?? 0, runStartedAt: row.run_started_at };
    });
  }

  /** Members in [from, to) still to prepare: pending, with no rendered message yet. */
  async toPrepare(executionId: string, from: number, to: number): Promise<AudienceMember[]> {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .leftJoin('rendered_messages as m', (join) => join.onRef('m.execution_id', '=', 'd.execution_id').onRef('m.position', '=', 'd.position'))
      .select(['d.position', 'd.user_id', 'd.namespace'])
      .where('d.execution_id', '=', executionId)
      .where('d.position', '>=', from)
      .where('d.position', '<', to)
      .where('d.status', '=', 'pending')
      .where('m.position', 'is', null)
      .orderBy('d.position')
      .execute();
    return rows.map((row) => ({ position: row.position, userId: row.user_id, namespace: row.namespace }));
  }

  /** Positions in [from, to) rendered and still pending whose time has come (not deferred past `now`). */
  async readyToSend(executionId: string, from: number, to: number, now: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('rendered_messages as m', (join) => join.onRef('m.execution_id', '=', 'd.execution_id').onRef('m.position', '=', 'd.position'))
      .select('d.position')
      .where('d.execution_id', '=', executionId)
      .where('d.position', '>=', from)
      .where('d.position', '<', to)
      .where('d.status', '=', 'pending')
      .where((eb) => eb.or([eb('d.not_before', 'is', null), eb('d.not_before', '<=', now)]))
      .orderBy('d.position')
      .execute();
    return rows.map((row) => row.position);
  }

  /** Defers pending messages (quiet hours) until their instant; `reason` says why while they wait. */
  async defer(executionId: string, deferrals: { position: number; notBefore: string }[], reason: string): Promise<void> {
    if (deferrals.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const { position, notBefore } of deferrals) {
        await trx
          .updateTable('deliveries')
          .set({ not_before: notBefore, reason })
          .where('execution_id', '=', executionId)
          .where('position', '=', position)
          .where('status', '=', 'pending')
          .execute();
      }
    });
  }

  /** The earliest instant a deferred message of the run waits for, if any is left. */
  async nextDeferred(executionId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('not_before').as('next'))
      .where('execution_id', '=', executionId)
      .where('status', '=', 'pending')
      .where('not_before', 'is not', null)
      .executeTakeFirst();
    return (row?.next as string | null | undefined) ?? undefined;
  }

  /** Excludes every recipient still pending (from `from` on) with `reason`; answers how many. */
  async excludePending(executionId: string, reason: string, from = 0): Promise<number> {
    const now = new Date().toISOString();
    const exclude = (db: Kysely<Database>) =>
      db
        .updateTable('deliveries')
        .set({ status: 'excluded', reason, updated_at: now })
        .where('execution_id', '=', executionId)
        .where('position', '>=', from)
        .where('status', '=', 'pending');
    const feedback = new FeedbackEventRepository(this.db);
    // Positions are read back (RETURNING) only for a deployment with webhook endpoints.
    if (!(await feedback.active())) return Number((await exclude(this.db).executeTakeFirst()).numUpdatedRows);
    return this.db.transaction().execute(async (trx) => {
      const excluded = await exclude(trx).returning('position').execute();
      const detail = failureDetail('execution', reason);
      await feedback.append(
        excluded.map(({ position }) => ({ type: 'excluded' as const, executionId, position: Number(position), occurredAt: now, detail })),
        trx,
      );
      return excluded.length;
    });
  }

  /** Closes the run with its counts, `failed` with the reason when given. */
  async close(executionId: string, failureReason?: string): Promise<ClosedCounts> {
    return this.db.transaction().execute((trx) => closeWithCounts(trx, executionId, failureReason, new Date().toISOString()));
  }

  async counts(executionId: string): Promise<AudienceRunCounts> {
    return audienceRunCounts(this.db, executionId);
  }

  /** One page of recipients, in position order, after the cursor's position. */
  async recipientsPage(executionId: string, afterPosition: number, limit: number) {
    return this.db
      .selectFrom('deliveries')
      .select(['position', 'user_id', 'status', 'reason', 'profile_created', 'message_id', 'locale', 'not_before'])
      .where('execution_id', '=', executionId)
      .where('position', '>', afterPosition)
      .orderBy('position')
      .limit(limit)
      .execute();
  }

  /**
   * The profiles of a batch's members in one query (and their push tokens in one more), keyed
   * by userId: what preparation needs of each, as the unitary path's profile resolution answers it.
   */
  async profilesOf(namespace: string, userIds: string[], withPushTokens: boolean): Promise<Map<string, BatchProfile>> {
    const found = new Map<string, BatchProfile>();
    if (userIds.length === 0) return found;
    const rows = await this.db
      .selectFrom('profiles')
      .select(['user_id', 'attributes', 'consents', 'locale'])
      .where('namespace', '=', namespace)
      .where('user_id', 'in', userIds)
      .execute();
    for (const row of rows) {
      found.set(row.user_id, {
        attributes: readJson<Record<string, unknown>>(row.attributes),
        consents: readJson<Consents>(row.consents),
        ...(row.locale && { locale: row.locale }),
      });
    }
    if (withPushTokens) {
      const tokens = await this.db
        .selectFrom('push_tokens')
        .select(['user_id', 'app_id', 'platform', 'token'])
        .where('namespace', '=', namespace)
        .where('user_id', 'in', userIds)
        .orderBy('updated_at', 'desc')
        .orderBy('token')
        .execute();
      for (const profile of found.values()) profile.pushTokens = [];
      for (const token of tokens) found.get(token.user_id)?.pushTokens?.push({ appID: token.app_id, platform: token.platform, token: token.token });
    }
    return found;
  }

  /** The rendered messages of a block, with each recipient's address, in position order. */
  async messagesFor(executionId: string, positions: number[]): Promise<BatchMessage[]> {
    if (positions.length === 0) return [];
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('rendered_messages as m', (join) => join.onRef('m.execution_id', '=', 'd.execution_id').onRef('m.position', '=', 'd.position'))
      .select(['d.position', 'd.user_id', 'd.address', 'm.subject', 'm.html', 'm.text'])
      .where('d.execution_id', '=', executionId)
      .where('d.position', 'in', positions)
      .where('d.status', '=', 'pending')
      .orderBy('d.position')
      .execute();
    return rows.map((row) => ({
      position: row.position,
      userId: row.user_id,
      address: row.address ?? '',
      subject: row.subject,
      html: row.html,
      text: row.text,
    }));
  }

  /**
   * Records a block sent (the provider accepted it, or the inbox stored it) in one transaction, one
   * update per SENT_ROWS_PER_UPDATE messages (each its own message id); recipients already closed
   * keep their outcome.
   */
  async markSentMany(executionId: string, sent: { position: number; messageId: string }[]): Promise<void> {
    if (sent.length === 0) return;
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const closed: number[] = [];
      for (let at = 0; at < sent.length; at += SENT_ROWS_PER_UPDATE) {
        const chunk = sent.slice(at, at + SENT_ROWS_PER_UPDATE);
        const messageIds = sql.join(
          chunk.map(({ position, messageId }) => sql`when ${position} then ${messageId}`),
          sql` `,
        );
        const updated = await trx
          .updateTable('deliveries')
          .set({ status: 'sent', reason: null, message_id: sql<string>`case ${sql.ref('position')} ${messageIds} end`, updated_at: now })
          .where('execution_id', '=', executionId)
          .where(
            'position',
            'in',
            chunk.map(({ position }) => position),
          )
          .where('status', '=', 'pending')
          .returning('position')
          .execute();
        closed.push(...updated.map((row) => row.position));
      }
      await new FeedbackEventRepository(this.db).append(
        closed.map((position) => ({ type: 'sent' as const, executionId, position, occurredAt: now })),
        trx,
      );
    });
  }

  /** Stores an in-app block in its recipients' inboxes (InboxRepository.storeMany): the audience run's way to the inbox. */
  storeInboxMessages(messages: readonly NewInboxMessage[]): Promise<{ position: number; messageId: string }[]> {
    return new InboxRepository(this.db).storeMany(messages);
  }

  // Scheduled runs.

  async schedule(scheduleId: string): Promise<AudienceScheduleRecord | undefined> {
    return this.scheduleWhere('schedule_id', scheduleId);
  }

  /** The schedule of a scheduled execution; undefined for a run started at once. */
  async scheduleOf(executionId: string): Promise<AudienceScheduleRecord | undefined> {
    return this.scheduleWhere('id', executionId);
  }

  private async scheduleWhere(column: 'schedule_id' | 'id', value: string): Promise<AudienceScheduleRecord | undefined> {
    const row = await this.db
      .selectFrom('executions')
      .select(['id', 'campaign_id', 'audience_id', 'schedule_id', 'execute_at', 'run_started_at', 'schedule_cancelled_at', 'created_at', 'started_by_key_id'])
      .where(column, '=', value)
      .executeTakeFirst();
    if (!row?.schedule_id || !row.execute_at || !row.audience_id) return undefined;
    return {
      scheduleId: row.schedule_id,
      executionId: row.id,
      campaignId: row.campaign_id,
      audienceId: row.audience_id,
      executeAt: row.execute_at,
      createdAt: row.created_at,
      ...(row.run_started_at && { runStartedAt: row.run_started_at }),
      ...(row.schedule_cancelled_at && { cancelledAt: row.schedule_cancelled_at }),
      ...(row.started_by_key_id && { startedByKeyId: row.started_by_key_id }),
    };
  }

  /**
   * Cancels a scheduled run that has not started; the run's own start (freeze) refuses it from
   * then on. Answers false when the run started first. Closes the execution as cancelled.
   */
  async cancelSchedule(scheduleId: string, reason: string): Promise<boolean> {
    const now = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const cancelled = await trx
        .updateTable('executions')
        .set({ schedule_cancelled_at: now })
        .where('schedule_id', '=', scheduleId)
        .where('run_started_at', 'is', null)
        .where('schedule_cancelled_at', 'is', null)
        .executeTakeFirst();
      if (cancelled.numUpdatedRows === 0n) return false;
      const row = await trx.selectFrom('executions').select('id').where('schedule_id', '=', scheduleId).executeTakeFirstOrThrow();
      await closeWithCounts(trx, row.id, reason, now);
      return true;
    });
  }
}
