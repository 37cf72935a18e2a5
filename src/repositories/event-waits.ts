import type { HeraldDb } from '../db/database';
import { isUniqueViolation } from '../db/unique-violation';
import { eventMatchPath, eventMatchValue } from '../domain/event-match';

/** Waits one event may reach at most (one person waiting in 1,000 runs for the same event is far past any real case). */
export const MAX_MATCHED_WAITS = 1000;

export interface EventWaitToOpen {
  executionId: string;
  stepId: string;
  workflowId: string;
  event: string;
  recipients: { position: number; namespace: string; userId: string; matchValue?: string }[];
}

/** The runs one event reaches: each workflow with its step and the recipients that waited for it. */
export interface MatchedWait {
  executionId: string;
  campaignId: string;
  workflowId: string;
  stepId: string;
  positions: number[];
}

export interface IncomingEvent {
  name: string;
  namespace: string;
  userId: string;
  data?: Record<string, unknown>;
}

/**
 * Recipients waiting in a waitForEvent step (src/domain/campaign-steps.ts), and events received
 * with an eventId. `POST /v1/events` finds the waits an event matches here and signals their
 * workflows; the wait itself (until the event or the timeout) is the workflow's.
 */
export class EventWaitRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Opens the waits of one step; safe to repeat. */
  async open(wait: EventWaitToOpen): Promise<void> {
    if (wait.recipients.length === 0) return;
    const now = new Date().toISOString();
    await this.db
      .insertInto('event_waits')
      .values(
        wait.recipients.map((r) => ({
          execution_id: wait.executionId,
          position: r.position,
          step_id: wait.stepId,
          workflow_id: wait.workflowId,
          name: wait.event,
          namespace: r.namespace,
          user_id: r.userId,
          match_value: r.matchValue ?? null,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['execution_id', 'position', 'step_id']).doNothing())
      .execute();
  }

  /** Ends the waits of one step (the event came, the timeout passed, the run was cancelled). */
  async close(executionId: string, stepId: string, positions: number[]): Promise<void> {
    if (positions.length === 0) return;
    await this.db.deleteFrom('event_waits').where('execution_id', '=', executionId).where('step_id', '=', stepId).where('position', 'in', positions).execute();
  }

  /**
   * The waits an event matches: same name and recipient, and for a wait with a match value, the
   * same value at the event's `data.<match>` (src/domain/event-match.ts).
   */
  async matching(event: IncomingEvent): Promise<MatchedWait[]> {
    const rows = await this.db
      .selectFrom('event_waits as w')
      .innerJoin('executions as e', 'e.id', 'w.execution_id')
      .select(['w.execution_id', 'e.campaign_id', 'w.workflow_id', 'w.step_id', 'w.position', 'w.match_value'])
      .where('w.namespace', '=', event.namespace)
      .where('w.user_id', '=', event.userId)
      .where('w.name', '=', event.name)
      .orderBy('w.created_at')
      .limit(MAX_MATCHED_WAITS)
      .execute();
    const byRun = new Map<string, MatchedWait>();
    for (const row of rows) {
      if (row.match_value !== null) {
        const path = eventMatchPath(row.match_value);
        if (path === undefined || eventMatchValue(event.data, path) !== row.match_value) continue;
      }
      const key = `${row.execution_id}\u0000${row.step_id}`;
      const run = byRun.get(key) ?? {
        executionId: row.execution_id,
        campaignId: row.campaign_id,
        workflowId: row.workflow_id,
        stepId: row.step_id,
        positions: [],
      };
      run.positions.push(row.position);
      byRun.set(key, run);
    }
    return [...byRun.values()];
  }

  /** The answer given to an earlier event with this eventId, if any. */
  async received(eventId: string): Promise<{ matched: number } | undefined> {
    const row = await this.db.selectFrom('inbound_events').select('matched').where('event_id', '=', eventId).executeTakeFirst();
    return row && { matched: Number(row.matched) };
  }

  /** Records an event's answer under its eventId; a concurrent repeat keeps the first. */
  async remember(eventId: string, event: IncomingEvent, matched: number): Promise<{ matched: number }> {
    try {
      await this.db
        .insertInto('inbound_events')
        .values({ event_id: eventId, name: event.name, namespace: event.namespace, user_id: event.userId, matched, received_at: new Date().toISOString() })
        .execute();
      return { matched };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return (await this.received(eventId)) ?? { matched };
    }
  }
}
