import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { highThroughputDispatcher, type HighThroughputDispatcherInput, nudgeSignal } from '../../workflows/high-throughput-dispatcher';
import { highThroughputDispatcherId } from '../../workflows/workflow-ids';
import type { TemporalConfig } from '../config/temporal';
import type { HeraldDb } from '../db/database';
import { HighThroughputQueue } from '../repositories/high-throughput-queue';
import { withCallDeadline } from '../temporal-client/connection';

/** Triggers per batch: 2 email blocks of Resend's 100 at one recipient each. */
export const HIGH_THROUGHPUT_BATCH_SIZE = 200;
/**
 * How long an idle dispatcher waits before it looks at its queue again. The API's nudge wakes it
 * sooner; this is the bound on a trigger's wait when a nudge is lost (an API that died right
 * after its commit), and what an idle deployment costs Temporal (one batch and one timer per
 * partition per wait).
 */
export const HIGH_THROUGHPUT_IDLE_MS = 2_000;
/**
 * After a batch that came back short, how long a drain session waits before it claims again; and
 * the gap in one API process's commits to a partition after which it nudges. The two are one
 * value on purpose (ADR 0010, "Nudges"): a session ends only on an empty claim made at least this
 * long after its previous claim, so a trigger committed within this long of an earlier one
 * (counted from before the earlier one's commit) is found by a claim of the session that took the
 * earlier one, and needs no nudge. Under a steady flow the API sends no signal at all.
 */
export const HIGH_THROUGHPUT_LINGER_MS = 100;
/** How long a drain session runs before it reports back to its workflow (whose details then move). */
export const HIGH_THROUGHPUT_SESSION_MS = 20_000;
/**
 * At most one nudge per partition and API process in this long: each is a signal, a history event
 * and a workflow task. One that falls inside the interval is sent at its end (trailing edge), so
 * none is left to the idle timer.
 */
export const HIGH_THROUGHPUT_NUDGE_INTERVAL_MS = 250;

/** Which dispatchers a deployment runs: `partitions` of them on `taskQueue` (HERALD_HIGH_THROUGHPUT_PARTITIONS). */
export interface DispatcherSetting {
  taskQueue: string;
  partitions: number;
}

export const dispatcherSettingOf = ({ temporal }: TemporalConfig): DispatcherSetting => ({
  taskQueue: temporal.taskQueue,
  partitions: temporal.highThroughputPartitions,
});

/** How a partition's dispatcher is started, by a worker, an activation or a nudge alike. */
function dispatcherStart({ taskQueue, partitions }: DispatcherSetting, partition: number) {
  return {
    taskQueue,
    workflowId: highThroughputDispatcherId(taskQueue, partition),
    args: [
      {
        partition,
        batchSize: HIGH_THROUGHPUT_BATCH_SIZE,
        idleMs: HIGH_THROUGHPUT_IDLE_MS,
        lingerMs: HIGH_THROUGHPUT_LINGER_MS,
        sessionMs: HIGH_THROUGHPUT_SESSION_MS,
      },
    ] as [HighThroughputDispatcherInput],
    staticSummary:
      partition < partitions
        ? `High-throughput dispatcher, partition ${partition} of ${partitions}`
        : `High-throughput dispatcher, partition ${partition} (past the count of ${partitions}: ends once drained)`,
    staticDetails: `Sends the queued triggers of high-throughput campaigns (ht_triggers, partition ${partition}) in batches of up to ${HIGH_THROUGHPUT_BATCH_SIZE}.`,
  };
}

/**
 * Starts the partitions' dispatchers (ADR 0010) unless they run: `USE_EXISTING` makes every call
 * after the first a no-op, so every worker at startup, every activation of a high-throughput
 * campaign and the orphan sweep may call it. A dispatcher that ended (drained past the count, or
 * terminated by an operator) is started again. `partitions`: which ones; every partition of the
 * count by default.
 */
export async function ensureHighThroughputDispatchers(
  client: Client,
  setting: DispatcherSetting,
  partitions: Iterable<number> = Array.from({ length: setting.partitions }, (_, partition) => partition),
): Promise<void> {
  await Promise.all(
    [...new Set(partitions)].map(async (partition) => {
      try {
        await withCallDeadline(client, () =>
          client.workflow.start(highThroughputDispatcher, {
            ...dispatcherStart(setting, partition),
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          }),
        );
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }),
  );
}

/**
 * The partitions a worker starting up makes sure have a dispatcher (ADR 0010): none when the
 * deployment has no high-throughput campaign that takes (or may still take) triggers and nothing
 * queued; else every partition of the count, and those past it that still hold queued triggers
 * (queued under a larger count, their dispatcher ended or terminated).
 */
export async function highThroughputDispatchersToRun(db: HeraldDb, partitions: number): Promise<number[]> {
  // A stopped campaign's accepted triggers are still sent.
  const queued = await new HighThroughputQueue(db).partitionsHoldingTriggers();
  if (queued.length === 0) {
    const live = await db
      .selectFrom('campaigns')
      .select('id')
      .where('throughput', '=', 'high')
      .where('status', 'in', ['scheduled', 'live'])
      .limit(1)
      .executeTakeFirst();
    if (!live) return [];
  }
  return [...Array.from({ length: partitions }, (_, partition) => partition), ...queued.filter((partition) => partition >= partitions)];
}

/**
 * Starts the dispatcher of every partition past the count that holds queued triggers, for the
 * orphan sweep: a trigger queued there whose nudge was lost (Temporal down, an API killed right
 * after its answer) after its dispatcher had ended would otherwise wait for a worker's restart.
 * Returns those partitions. Within the count the dispatchers never end by themselves.
 */
export async function restartDispatchersPastTheCount(db: HeraldDb, client: Client, setting: DispatcherSetting): Promise<number[]> {
  const beyond = await new HighThroughputQueue(db).partitionsHoldingTriggers(setting.partitions);
  if (beyond.length > 0) await ensureHighThroughputDispatchers(client, setting, beyond);
  return beyond;
}

interface NudgeState {
  /** When the last nudge went out. */
  last: number;
  /** The latest `queuedAt` of a trigger committed to this partition by this process. */
  lastQueuedAt: number;
  trailing?: NodeJS.Timeout;
}

/** Per client (one per API process) and dispatcher. */
const nudges = new WeakMap<Client, Map<string, NudgeState>>();

/**
 * Tells a partition's dispatcher that a trigger was queued, so an idle one sends it now rather
 * than at the end of its wait, unless this process committed another trigger to the partition
 * less than HIGH_THROUGHPUT_LINGER_MS before it: the drain session that finds that one finds this
 * one too. `queuedAt` is taken before the claim's commit, and the check is made after it. The
 * nudge is a signal-with-start: a dispatcher that is not running (one past a lowered count that
 * drained and ended, or one an operator terminated) is started by it, so no queued trigger waits
 * for a worker's restart. Fire and forget: the 202 never waits for Temporal, and a nudge that
 * fails (Temporal down) costs only latency while the dispatcher runs, since it looks at its queue
 * after HIGH_THROUGHPUT_IDLE_MS anyway; one that is not running (past the count) is started by the
 * next nudge, the orphan sweep (restartDispatchersPastTheCount) or a worker's start.
 */
export function nudgeDispatcher(client: Client, setting: DispatcherSetting, partition: number, queuedAt: number, nowMs = Date.now()): void {
  const workflowId = highThroughputDispatcherId(setting.taskQueue, partition);
  let byWorkflow = nudges.get(client);
  if (!byWorkflow) {
    byWorkflow = new Map();
    nudges.set(client, byWorkflow);
  }
  const state = byWorkflow.get(workflowId) ?? { last: Number.NEGATIVE_INFINITY, lastQueuedAt: Number.NEGATIVE_INFINITY };
  byWorkflow.set(workflowId, state);
  const covered = nowMs - state.lastQueuedAt < HIGH_THROUGHPUT_LINGER_MS;
  state.lastQueuedAt = Math.max(state.lastQueuedAt, queuedAt);
  if (covered) return;
  const send = (at: number) => {
    state.last = at;
    withCallDeadline(client, () =>
      client.workflow.signalWithStart(highThroughputDispatcher, { ...dispatcherStart(setting, partition), signal: nudgeSignal, signalArgs: [] }),
    ).catch(() => {
      // Only latency is lost: the dispatcher's own timer finds the trigger.
    });
  };
  const wait = state.last + HIGH_THROUGHPUT_NUDGE_INTERVAL_MS - nowMs;
  if (wait <= 0) {
    send(nowMs);
    return;
  }
  if (state.trailing) return;
  state.trailing = setTimeout(() => {
    state.trailing = undefined;
    send(Date.now());
  }, wait);
  // A process that is stopping does not wait for it: the dispatcher's idle timer covers the trigger
  // (past the count, the orphan sweep).
  state.trailing.unref();
}
