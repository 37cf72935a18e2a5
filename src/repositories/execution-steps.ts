import type { HeraldDb } from '../db/database';
import type { ExecutionStepTable } from '../db/schema';
import { readJson } from '../db/dialect';
import { recipientPositionOf, type SendOutcome } from '../domain/campaign-steps';
import type { Channel } from '../domain/campaign';
import { mergeContext } from '../domain/recipient';

export type StepStatus = ExecutionStepTable['status'];

export interface StepStatusChange {
  executionId: string;
  positions: number[];
  stepId: string;
  type: ExecutionStepTable['type'];
  status: StepStatus;
  reason?: string;
  /** A waiting step: when the wait ends at the latest (epoch ms). */
  untilMs?: number;
}

/** One step of one recipient, as the execution status shows it. */
export interface StepView {
  id: string;
  type: ExecutionStepTable['type'];
  status: StepStatus;
  at: string;
  reason?: string;
  until?: string;
  /** Send steps: the message's delivery position (its outcome is the delivery's). */
  position?: number;
}

/** A recipient's data as a step reads it: who, and the trigger's context merged with its own. */
export interface StepRecipient {
  position: number;
  namespace: string;
  userId: string;
  context: Record<string, unknown>;
}

/**
 * Where each recipient of an execution stands in each campaign step it reached
 * (src/domain/campaign-steps.ts), and the data the steps read. Written by the step activities,
 * read by the execution status; ids, times and reasons only.
 */
export class ExecutionStepRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Records a step's status for some recipients; a repeat (an activity retried) writes the same. */
  async record(change: StepStatusChange): Promise<void> {
    if (change.positions.length === 0) return;
    const at = new Date().toISOString();
    const values = {
      type: change.type,
      status: change.status,
      reason: change.reason ?? null,
      until: change.untilMs === undefined ? null : new Date(change.untilMs).toISOString(),
      at,
    };
    await this.db
      .insertInto('execution_steps')
      .values(change.positions.map((position) => ({ execution_id: change.executionId, position, step_id: change.stepId, ...values })))
      .onConflict((oc) => oc.columns(['execution_id', 'position', 'step_id']).doUpdateSet(values))
      .execute();
  }

  /** Every step row of an execution, by recipient position, in the order they were reached. */
  async forExecution(executionId: string): Promise<Map<number, StepView[]>> {
    const rows = await this.db.selectFrom('execution_steps').selectAll().where('execution_id', '=', executionId).orderBy('at').execute();
    const byRecipient = new Map<number, StepView[]>();
    for (const row of rows) {
      const view: StepView = {
        id: row.step_id,
        type: row.type,
        status: row.status,
        at: row.at,
        ...(row.reason && { reason: row.reason }),
        ...(row.until && { until: row.until }),
      };
      byRecipient.set(row.position, [...(byRecipient.get(row.position) ?? []), view]);
    }
    return byRecipient;
  }

  /** The recipients at `positions`, with the trigger's shared context merged under each one's own. */
  async recipients(executionId: string, positions: number[]): Promise<StepRecipient[]> {
    if (positions.length === 0) return [];
    const execution = await this.db.selectFrom('executions').select('context').where('id', '=', executionId).executeTakeFirst();
    const shared = execution?.context ? readJson<Record<string, unknown>>(execution.context) : undefined;
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['position', 'namespace', 'user_id', 'context'])
      .where('execution_id', '=', executionId)
      .where('position', 'in', positions)
      .execute();
    return rows.map((row) => ({
      position: row.position,
      namespace: row.namespace,
      userId: row.user_id,
      context: mergeContext(shared, row.context ? readJson<Record<string, unknown>>(row.context) : undefined),
    }));
  }

  /**
   * The outcome of the messages at `positions` (send steps' deliveries), furthest first: clicked,
   * opened, delivered, sent; or failed, excluded. Pending (or absent) messages have none.
   */
  async sendOutcomes(executionId: string, positions: number[]): Promise<Map<number, SendOutcome>> {
    const outcomes = new Map<number, SendOutcome>();
    if (positions.length === 0) return outcomes;
    const deliveries = await this.db
      .selectFrom('deliveries')
      .select(['position', 'status', 'feedback'])
      .where('execution_id', '=', executionId)
      .where('position', 'in', positions)
      .execute();
    const events = await this.db
      .selectFrom('delivery_events')
      .select(['position', 'type'])
      .where('execution_id', '=', executionId)
      .where('position', 'in', positions)
      .where('type', 'in', ['opened', 'clicked', 'delivered'])
      .execute();
    // In-app messages: seen and read, as the inbox recorded them.
    const inbox = await this.db
      .selectFrom('inbox_messages')
      .select(['position', 'seen_at', 'read_at'])
      .where('execution_id', '=', executionId)
      .where('position', 'in', positions)
      .execute();
    for (const row of deliveries) {
      const inApp = inbox.find((message) => message.position === row.position);
      if (row.status === 'failed' || row.status === 'excluded') outcomes.set(row.position, row.status);
      else if (row.status === 'sent' && inApp) outcomes.set(row.position, inApp.read_at ? 'read' : inApp.seen_at ? 'seen' : 'sent');
      else if (row.status === 'sent') {
        const seen = new Set(events.filter((e) => e.position === row.position).map((e) => e.type));
        if (row.feedback === 'delivered') seen.add('delivered');
        outcomes.set(row.position, seen.has('clicked') ? 'clicked' : seen.has('opened') ? 'opened' : seen.has('delivered') ? 'delivered' : 'sent');
      }
    }
    return outcomes;
  }

  /**
   * Opens the messages of one send step for some recipients: the recipient's own delivery for its
   * first send step (given the step's channel), a copy of it at the step's position for later ones.
   * Safe to repeat: an existing message is left as it is.
   */
  async openSendMessages(executionId: string, stepId: string, channel: Channel, slots: { recipient: number; position: number }[]): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      for (const { recipient, position } of slots) {
        if (position === recipient) {
          await trx
            .updateTable('deliveries')
            .set({ step_id: stepId, channel: channel, updated_at: now })
            .where('execution_id', '=', executionId)
            .where('position', '=', position)
            .where('status', '=', 'pending')
            .where('step_id', 'is', null)
            .execute();
          continue;
        }
        const source = await trx
          .selectFrom('deliveries')
          .select(['user_id', 'namespace', 'context', 'channel_data'])
          .where('execution_id', '=', executionId)
          .where('position', '=', recipientPositionOf(position))
          .executeTakeFirst();
        if (!source) continue;
        await trx
          .insertInto('deliveries')
          .values({
            execution_id: executionId,
            position,
            user_id: source.user_id,
            namespace: source.namespace,
            channel: channel,
            status: 'pending',
            reason: null,
            address: null,
            message_id: null,
            updated_at: now,
            context: source.context,
            channel_data: source.channel_data,
            step_id: stepId,
          })
          .onConflict((oc) => oc.columns(['execution_id', 'position']).doNothing())
          .execute();
      }
    });
  }
}
