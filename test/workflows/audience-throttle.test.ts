/**
 * The audience run's throttle in workflow time, in Temporal's time-skipping test environment: the
 * real `audienceExecution` workflow paces its batches with durable timers, which the test server
 * skips, so a run of several seconds takes a fraction of one and nothing here waits on the wall
 * clock (the real-time version of this test failed on a busy machine). Activities are stubs
 * shaped like Herald's (typed against HeraldActivities, so a renamed activity or a changed input
 * breaks this file); each batch call records the workflow time it was started at (its input's
 * `nowMs`, the workflow's Date.now()) and the time the server scheduled it.
 *
 * The Java test server comes from Maven Central (temporal/test-server-binary.ts); without a
 * JVM or Maven the file is skipped, saying why.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from '../support/time-skipping';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudienceBatchInput, CloseAudienceRunInput } from '../../activities/audience-run';
import type { HeraldActivities } from '../../activities/index';
import { AUDIENCE_EXCLUSIONS, UNTHROTTLED_BATCH_SIZE, audienceBatchSize } from '../../src/domain/audience-execution';
import { bundleWorkflows } from '../../src/worker/create-worker';
import { resolveTestServerExecutable } from '../../temporal/test-server-binary';
import { audienceExecution, type AudienceRunCursor } from '../../workflows/audience-execution';

const executable = resolveTestServerExecutable((line) => console.log(`[audience-throttle test] ${line}`));

/** The activities the audience workflow calls, as Herald declares them. */
type AudienceActivities = Pick<HeraldActivities, 'beginAudienceRun' | 'sendAudienceBatch' | 'nextDeferredMessage' | 'closeAudienceRun'>;

/** One stubbed audience execution: its frozen members and what each one comes to. */
interface Scenario {
  targeted: number;
  throttlePerSecond?: number;
  /** HERALD_AUDIENCE_MAX_RUNTIME; a day unless given. */
  maxRuntimeMs?: number;
  /** Members excluded at preparation (consent, capping…); the rest are sent. */
  excluded?: (position: number) => boolean;
}

interface BatchCall extends AudienceBatchInput {
  /** When the server scheduled the activity (workflow time, as the test server's clock says). */
  scheduledMs: number;
}

interface StubRun {
  scenario: Scenario;
  batches: BatchCall[];
  /** Positions prepared so far, as the real activity records them (a retry prepares none twice). */
  done: Map<number, 'sent' | 'excluded'>;
  close?: CloseAudienceRunInput;
}

const runs = new Map<string, StubRun>();

function runOf(executionId: string): StubRun {
  const run = runs.get(executionId);
  if (!run) throw new Error(`no scenario for ${executionId}`);
  return run;
}

/** Herald's audience activities over an in-memory run instead of the database and a provider. */
const activities: AudienceActivities = {
  async beginAudienceRun({ executionId, nowMs }) {
    const { scenario } = runOf(executionId);
    return {
      kind: 'running',
      targeted: scenario.targeted,
      runStartedMs: nowMs,
      deadlineMs: nowMs + (scenario.maxRuntimeMs ?? 86_400_000),
      batchSize: audienceBatchSize(scenario.throttlePerSecond),
      ...(scenario.throttlePerSecond !== undefined && { throttlePerSecond: scenario.throttlePerSecond }),
    };
  },
  async sendAudienceBatch(input) {
    const run = runOf(input.executionId);
    run.batches.push({ ...input, scheduledMs: Context.current().info.scheduledTimestampMs });
    let sent = 0;
    let excluded = 0;
    for (let position = input.from; position < Math.min(input.to, run.scenario.targeted); position++) {
      if (run.done.has(position)) continue;
      const outcome = run.scenario.excluded?.(position) ? 'excluded' : 'sent';
      run.done.set(position, outcome);
      if (outcome === 'sent') sent++;
      else excluded++;
    }
    return { kind: 'done', sent, failed: 0, excluded, deferred: 0 };
  },
  async nextDeferredMessage() {
    return null;
  },
  async closeAudienceRun(input) {
    const run = runOf(input.executionId);
    run.close = input;
    const count = (status: 'sent' | 'excluded') => [...run.done.values()].filter((s) => s === status).length;
    const remaining = run.scenario.targeted - run.done.size;
    return { sent: count('sent'), failed: 0, excluded: count('excluded') + (input.excludeRemaining ? remaining : 0) };
  },
};

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ms = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

describe.skipIf(!executable)('audience throttle in workflow time (time-skipping test server)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let workerRun: Promise<void>;
  const taskQueue = `audience-throttle-${randomUUID()}`;

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

  /** Runs the workflow on a stubbed execution to its end (time skips while the test waits for the result). */
  async function runAudience(scenario: Scenario) {
    const executionId = `exec-${randomUUID()}`;
    const run: StubRun = { scenario, batches: [], done: new Map() };
    runs.set(executionId, run);
    const workflowId = `audience/test/${executionId}`;
    const handle = await env.client.workflow.start(audienceExecution, { taskQueue, workflowId, args: [{ executionId, campaignId: 'cmp-test' }] });
    const result = await handle.result();
    // The latest run's history (the one that completed, after any continue-as-new).
    const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    return { executionId, workflowId, handle, result, run, events };
  }

  /** Workflow time from the run's start to its end, and the timers it slept on (requested durations). */
  function timing(events: HistoryEvent[]) {
    const startedMs = ms(events.find((e) => e.workflowExecutionStartedEventAttributes)?.eventTime);
    const endedMs = ms(events.find((e) => e.workflowExecutionCompletedEventAttributes || e.workflowExecutionContinuedAsNewEventAttributes)?.eventTime);
    const timers = events.filter((e) => e.timerStartedEventAttributes).map((e) => ms(e.timerStartedEventAttributes!.startToFireTimeout));
    return { runMs: endedMs - startedMs, timers };
  }

  const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

  it('sends 30 members at 10 per second in batches of ten, each batch at least a second after the one before', async () => {
    const { executionId, result, run, events } = await runAudience({ targeted: 30, throttlePerSecond: 10 });
    expect(result).toEqual({ executionId, targeted: 30, sent: 30, failed: 0, excluded: 0 });
    expect(run.batches.map(({ from, to }) => [from, to])).toEqual([
      [0, 10],
      [10, 20],
      [20, 30],
    ]);
    const starts = run.batches.map((b) => b.nowMs);
    // Ten messages at ten per second: the next batch may not start (in workflow time) within a second of this one.
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(1000);
    // The server scheduled each batch after the previous one's second was up, too.
    for (let i = 1; i < run.batches.length; i++) expect(run.batches[i]!.scheduledMs).toBeGreaterThanOrEqual(starts[i - 1]! + 1000);
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(2000);
    const { runMs, timers } = timing(events);
    expect(runMs).toBeGreaterThanOrEqual(2000);
    // It waits on durable timers (skipped here), never longer than the throttle asks: no slowing down past it.
    for (const timer of timers) expect(timer).toBeLessThanOrEqual(1000);
    expect(run.close).toEqual({ executionId });
  });

  it('paces by the messages sent: excluded members cost no throttle time', async () => {
    const { result, run, events } = await runAudience({ targeted: 20, throttlePerSecond: 10, excluded: (position) => position % 2 === 0 });
    expect(result).toMatchObject({ targeted: 20, sent: 10, failed: 0, excluded: 10 });
    expect(run.batches).toHaveLength(2);
    // Five sent at ten per second: half a second.
    expect(gaps(run.batches.map((b) => b.nowMs))[0]).toBeGreaterThanOrEqual(500);
    for (const timer of timing(events).timers) expect(timer).toBeLessThanOrEqual(500);
  });

  it('does not sleep without a throttle', async () => {
    const targeted = 2 * UNTHROTTLED_BATCH_SIZE + 500;
    const { result, run, events } = await runAudience({ targeted });
    expect(result).toMatchObject({ targeted, sent: targeted, failed: 0, excluded: 0 });
    expect(run.batches.map(({ from, to }) => [from, to])).toEqual([
      [0, UNTHROTTLED_BATCH_SIZE],
      [UNTHROTTLED_BATCH_SIZE, 2 * UNTHROTTLED_BATCH_SIZE],
      [2 * UNTHROTTLED_BATCH_SIZE, 3 * UNTHROTTLED_BATCH_SIZE],
    ]);
    expect(timing(events).timers).toEqual([]);
  });

  it('ends at the run window: batches keep the throttle, and the members not reached are excluded as window-expired', async () => {
    // HERALD_AUDIENCE_MAX_RUNTIME=3s at 5 per second: batches of five, a second apart, none started after the window.
    const { result, run } = await runAudience({ targeted: 40, throttlePerSecond: 5, maxRuntimeMs: 3000 });
    const starts = run.batches.map((b) => b.nowMs);
    expect(run.batches.length).toBeGreaterThanOrEqual(1);
    expect(run.batches.length).toBeLessThanOrEqual(3);
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(starts.every((t) => t < starts[0]! + 3000)).toBe(true);
    const sent = 5 * run.batches.length;
    expect(result).toMatchObject({ targeted: 40, sent, failed: 0, excluded: 40 - sent });
    expect(run.close).toMatchObject({ excludeRemaining: AUDIENCE_EXCLUSIONS.windowExpired });
  });

  it('continues as new after 250 batches, carrying the cursor and the throttle into the next run', async () => {
    // 2000 per second: batches of 1000, half a second apart; 251 batches make two runs.
    const throttlePerSecond = 2000;
    const batchSize = audienceBatchSize(throttlePerSecond);
    const targeted = 251 * batchSize;
    const { executionId, workflowId, handle, result, run, events } = await runAudience({ targeted, throttlePerSecond });
    expect(result).toEqual({ executionId, targeted, sent: targeted, failed: 0, excluded: 0 });
    expect(run.batches).toHaveLength(251);
    for (const gap of gaps(run.batches.map((b) => b.nowMs))) expect(gap).toBeGreaterThanOrEqual(500);

    // The first run handed over where it stood…
    const first = (await env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory()).events ?? [];
    expect(first.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendAudienceBatch')).toHaveLength(250);
    expect(first.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    // …and the second went on from there, with the same throttle, beginning nothing again.
    const started = events[0]!.workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBe(handle.firstExecutionRunId);
    const [input] = started.input!.payloads!.map((payload) =>
      defaultPayloadConverter.fromPayload<{ executionId: string; cursor: AudienceRunCursor }>(payload as never),
    );
    expect(input).toMatchObject({
      executionId,
      cursor: { targeted, batchSize, throttlePerSecond, nextPosition: 250 * batchSize, sent: 250 * batchSize, failed: 0, excluded: 0 },
    });
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'beginAudienceRun')).toHaveLength(0);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendAudienceBatch')).toHaveLength(1);
    expect(run.batches.at(-1)).toMatchObject({ from: 250 * batchSize, to: 251 * batchSize });
  }, 180_000);
});
