/**
 * The high-throughput dispatcher's loop (ADR 0010) in workflow time, on Temporal's time-skipping
 * test server: the real `highThroughputDispatcher` workflow over a stubbed
 * `drainHighThroughputPartition` (typed against HeraldActivities) that drains an in-memory queue
 * in batches, as the real session does (without its linger).
 * Idle waits are durable timers the server skips (`env.sleep`), so nothing waits on the wall clock.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldActivities } from '../../activities/index';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { END_PAST_THE_COUNT, highThroughputDispatcher, nudgeSignal } from '../../workflows/high-throughput-dispatcher';
import { startTimeSkipping } from '../support/time-skipping';

const executable = resolveTestServerExecutable((line) => console.log(`[high-throughput-dispatcher test] ${line}`));

type DispatchActivities = Pick<HeraldActivities, 'drainHighThroughputPartition'>;

/** Per partition: triggers waiting, each batch's size, and each session's batches. */
const queues = new Map<number, { waiting: number; batches: number[]; sessions: number[][]; sessionLimit?: number; afterLastClaim?: () => Promise<void> }>();
const queueOf = (partition: number) => {
  const queue = queues.get(partition) ?? { waiting: 0, batches: [], sessions: [] };
  queues.set(partition, queue);
  return queue;
};

/** Stands in for the worker's HERALD_HIGH_THROUGHPUT_PARTITIONS: a drained partition at or past it says `retire`. */
const WORKER_PARTITIONS = 4;

const activities: DispatchActivities = {
  async drainHighThroughputPartition({ partition, batchSize }) {
    const queue = queueOf(partition);
    const session: number[] = [];
    queue.sessions.push(session);
    const totals = { batches: 0, triggers: 0, sent: 0, failed: 0 };
    for (;;) {
      const triggers = Math.min(batchSize, queue.waiting);
      queue.waiting -= triggers;
      queue.batches.push(triggers);
      session.push(triggers);
      if (triggers === 0) {
        // Stands in for a trigger queued (and its nudge sent) after the session's last claim.
        const after = queue.afterLastClaim;
        queue.afterLastClaim = undefined;
        await after?.();
        return { ...totals, more: false, ...(partition >= WORKER_PARTITIONS && { retire: true as const }) };
      }
      totals.batches++;
      totals.triggers += triggers;
      totals.sent += triggers;
      // Stands in for sessionMs: a session that has sent this many batches reports back with more waiting.
      if (queue.sessionLimit !== undefined && session.length >= queue.sessionLimit) return { ...totals, more: queue.waiting > 0 };
    }
  },
};

describe.skipIf(!executable)('high-throughput dispatcher in workflow time (time-skipping test server)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let workerRun: Promise<void>;
  const taskQueue = `ht-dispatcher-${randomUUID()}`;

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // keep the existing runtime
    }
    env = await startTimeSkipping(executable!);
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await bundleWorkflows(), activities });
    workerRun = worker.run();
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await workerRun;
    await env?.teardown();
  });

  /** Waits (skipping workflow time) until the partition's queue is empty and a batch came back short: the dispatcher then idles. */
  async function drained(partition: number, batchSize: number) {
    for (let i = 0; i < 200; i++) {
      const queue = queueOf(partition);
      if (queue.waiting === 0 && (queue.batches.at(-1) ?? batchSize) < batchSize) return queue;
      await env.sleep(100);
    }
    throw new Error(`partition ${partition} not drained: ${JSON.stringify(queueOf(partition))}`);
  }

  /** The timers the dispatcher started so far; the workflow task that starts one may still be on its way when the session returns. */
  async function timersOf(handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }, atLeast: number) {
    let timers: any[] = [];
    for (let i = 0; i < 100 && timers.length < atLeast; i++) {
      timers = ((await handle.fetchHistory()).events ?? []).filter((e: any) => e.timerStartedEventAttributes);
      if (timers.length < atLeast) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return timers;
  }

  /** A dispatcher of `partition` with `waiting` queued; 2 more are queued, with a nudge, right after its session's last claim. */
  async function startNudgedDuringSession(partition: number, waiting: number) {
    const queue = queueOf(partition);
    queue.waiting = waiting;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    queue.afterLastClaim = async () => {
      queue.waiting += 2;
      await env.client.workflow.getHandle(workflowId).signal(nudgeSignal);
    };
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 60_000, batchesPerRun: 100 }],
    });
    return { queue, handle };
  }

  it('drains in one session of full batches back to back, then waits on a timer; a nudge wakes it at once', async () => {
    const partition = 1;
    queueOf(partition).waiting = 35;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 60_000, batchesPerRun: 100 }],
    });
    const queue = await drained(partition, 10);
    // One session: three full batches, the rest, and the claim that found nothing.
    expect(queue.sessions).toEqual([[10, 10, 10, 5, 0]]);
    // A session that found the queue empty waits (a minute, not skipped yet).
    const timers = await timersOf(handle, 1);
    expect(timers).toHaveLength(1);
    expect(Number(timers[0]?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(60);

    // New triggers and a nudge: sent without waiting out the minute.
    queue.waiting = 7;
    await handle.signal(nudgeSignal);
    for (let i = 0; i < 50 && queue.waiting > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue.waiting).toBe(0);
    expect(queue.sessions.slice(1)).toEqual([[7, 0]]);
    await handle.terminate('test over');
  });

  it('keeps a nudge that arrives during a session: a trigger queued after its last claim goes at once, not at the idle timer', async () => {
    const partition = 3;
    const { queue, handle } = await startNudgedDuringSession(partition, 4);
    // No workflow time skipped: the second session follows the first because of the kept nudge.
    for (let i = 0; i < 100 && queue.sessions.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.sessions).toEqual([
      [4, 0],
      [2, 0],
    ]);
    // Only the second session ends in a wait.
    expect(await timersOf(handle, 1)).toHaveLength(1);
    await handle.terminate('test over');
  });

  it('continues as new after its rounds per run, carrying its totals, with ids, settings and counts only in history', async () => {
    const partition = 2;
    const queue = queueOf(partition);
    queue.waiting = 50;
    // Each session reports back after one batch, as a session past sessionMs does.
    queue.sessionLimit = 1;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 1_000, batchesPerRun: 3 }],
    });
    // 50 in batches of 10: five sessions that end with more waiting, then one that finds nothing, across runs of three rounds each.
    await drained(partition, 10);
    const first = (await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
    const continued = first.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes;
    expect(continued).toBeDefined();
    const carried = JSON.parse(Buffer.from(continued!.input!.payloads![0]!.data!).toString());
    expect(carried).toEqual({ partition, batchSize: 10, idleMs: 1_000, batchesPerRun: 3, totals: { batches: 3, triggers: 30, sent: 30, failed: 0 } });
    const latest = await env.client.workflow.getHandle(workflowId).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
    // The session's input is the partition and its settings; its result counts.
    const scheduled = first.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toHaveLength(3);
    const input = JSON.parse(Buffer.from(scheduled[0]!.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString());
    expect(Object.keys(input).sort()).toEqual(['batchSize', 'lingerMs', 'partition', 'sessionMs']);
    const completed = first.filter((e) => e.activityTaskCompletedEventAttributes);
    for (const event of completed) {
      const payload = event.activityTaskCompletedEventAttributes!.result!.payloads![0]!;
      const result = JSON.parse(Buffer.from(payload.data!).toString());
      expect(Object.keys(result).sort()).toEqual(['batches', 'failed', 'more', 'sent', 'triggers']);
    }
    expect(queue.batches).toEqual([10, 10, 10, 10, 10, 0]);
    await env.client.workflow.getHandle(workflowId).terminate('test over');
  });

  it('ends once drained when its partition is past the count (queued under a larger one), behind a patch whose history replays', async () => {
    const partition = WORKER_PARTITIONS + 2;
    const queue = queueOf(partition);
    queue.waiting = 25;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 60_000, batchesPerRun: 100 }],
    });
    // Ends by itself, no timer skipped: the session sent everything, then found the partition empty.
    await handle.result();
    expect(queue.sessions).toEqual([[10, 10, 5, 0]]);
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
    const patches = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const patchIds = patches.flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes!.details ?? {}).flatMap((p) => (p.payloads ?? []).map((payload) => Buffer.from(payload.data!).toString())),
    );
    expect(patchIds.join(' ')).toContain(END_PAST_THE_COUNT);
    // A replay takes the same path: the workflow is deterministic with the patch.
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflows() }, history, workflowId);
  });

  it('past the count, a nudge during the last session keeps it running for one more, which then ends', async () => {
    const partition = WORKER_PARTITIONS + 3;
    const { queue, handle } = await startNudgedDuringSession(partition, 3);
    await handle.result();
    expect(queue.sessions).toEqual([
      [3, 0],
      [2, 0],
    ]);
    expect(queue.waiting).toBe(0);
  });

  it('within the count, a drained dispatcher never ends: it waits for the next trigger', async () => {
    const partition = WORKER_PARTITIONS - 1;
    const queue = queueOf(partition);
    queue.waiting = 1;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}-within`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 60_000, batchesPerRun: 100 }],
    });
    await drained(partition, 10);
    expect(await timersOf(handle, 1)).toHaveLength(1);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test over');
  });
});
