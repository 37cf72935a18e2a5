/**
 * The high-throughput dispatcher's loop (ADR 0010) in workflow time, on Temporal's time-skipping
 * test server: the real `highThroughputDispatcher` workflow over a stubbed
 * `dispatchHighThroughputBatch` (typed against HeraldActivities) that drains an in-memory queue.
 * Idle waits are durable timers the server skips (`env.sleep`), so nothing waits on the wall clock.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeraldActivities } from '../../activities/index';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { highThroughputDispatcher, nudgeSignal } from '../../workflows/high-throughput-dispatcher';
import { startTimeSkipping } from '../support/time-skipping';

const executable = resolveTestServerExecutable((line) => console.log(`[high-throughput-dispatcher test] ${line}`));

type DispatchActivities = Pick<HeraldActivities, 'dispatchHighThroughputBatch'>;

/** Per partition: triggers waiting, and each batch call's size. */
const queues = new Map<number, { waiting: number; batches: number[] }>();
const queueOf = (partition: number) => {
  const queue = queues.get(partition) ?? { waiting: 0, batches: [] };
  queues.set(partition, queue);
  return queue;
};

const activities: DispatchActivities = {
  async dispatchHighThroughputBatch({ partition, limit }) {
    const queue = queueOf(partition);
    const triggers = Math.min(limit, queue.waiting);
    queue.waiting -= triggers;
    queue.batches.push(triggers);
    return triggers === 0 ? { triggers: 0, sent: 0, failed: 0 } : { batchId: `b${queue.batches.length}`, triggers, sent: triggers, failed: 0 };
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

  it('drains full batches back to back, then waits on a timer; a nudge wakes it at once', async () => {
    const partition = 1;
    queueOf(partition).waiting = 35;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 60_000, batchesPerRun: 100 }],
    });
    const queue = await drained(partition, 10);
    // Three full batches without a wait between them, then the rest; a short batch means the queue is empty.
    expect(queue.batches).toEqual([10, 10, 10, 5]);
    // The short batch's activity has returned; its workflow task, which starts the timer, may still be on its way.
    let timers: Awaited<ReturnType<typeof handle.fetchHistory>>['events'] & object = [];
    for (let i = 0; i < 100 && timers.length === 0; i++) {
      timers = ((await handle.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes);
      if (timers.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Only the batch that came back short waits (a minute, not skipped yet); the full ones went straight on.
    expect(timers).toHaveLength(1);
    expect(Number(timers[0]?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(60);

    // New triggers and a nudge: sent without waiting out the minute.
    const before = queue.batches.length;
    queue.waiting = 7;
    await handle.signal(nudgeSignal);
    for (let i = 0; i < 50 && queue.waiting > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue.waiting).toBe(0);
    expect(queue.batches.slice(before)).toEqual([7]);
    await handle.terminate('test over');
  });

  it('continues as new after its batches per run, carrying its totals, with ids and counts only in history', async () => {
    const partition = 2;
    queueOf(partition).waiting = 50;
    const workflowId = `ht-dispatcher/${taskQueue}/${partition}`;
    const handle = await env.client.workflow.start(highThroughputDispatcher, {
      taskQueue,
      workflowId,
      args: [{ partition, batchSize: 10, idleMs: 1_000, batchesPerRun: 3 }],
    });
    // 50 in batches of 10: five full batches, then an empty one, across runs of three batches each.
    await drained(partition, 10);
    const first = (await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
    const continued = first.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes;
    expect(continued).toBeDefined();
    const carried = JSON.parse(Buffer.from(continued!.input!.payloads![0]!.data!).toString());
    expect(carried).toEqual({ partition, batchSize: 10, idleMs: 1_000, batchesPerRun: 3, totals: { batches: 3, triggers: 30, sent: 30, failed: 0 } });
    const latest = await env.client.workflow.getHandle(workflowId).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
    // The activity's input is the partition and the limit; its result counts.
    const scheduled = first.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toHaveLength(3);
    const completed = first.filter((e) => e.activityTaskCompletedEventAttributes);
    for (const event of completed) {
      const payload = event.activityTaskCompletedEventAttributes!.result!.payloads![0]!;
      const result = JSON.parse(Buffer.from(payload.data!).toString());
      expect(Object.keys(result).sort()).toEqual(['batchId', 'failed', 'sent', 'triggers']);
    }
    expect(queueOf(partition).batches).toEqual([10, 10, 10, 10, 10, 0]);
    await env.client.workflow.getHandle(workflowId).terminate('test over');
  });
});
