/**
 * Replays every recorded history (`test/histories/*.json`, written by `npm run record-histories`)
 * against the current workflow code. A failure here means a workflow change is not
 * replay-safe: running workflows would hit a nondeterminism error after a deploy. Guard such
 * a change with `patched()`, or a new workflow type, rather than re-recording.
 *
 * HERALD_REPLAY_WORKFLOWS_PATH points the replay at another copy of the workflows, e.g. a
 * deliberately broken one to check that this test catches nondeterminism.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type ReplayResult } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowsPath as heraldWorkflowsPath } from '../../src/worker/create-worker';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

const historiesDir = fileURLToPath(new URL('../histories/', import.meta.url));
const workflowsPath = process.env.HERALD_REPLAY_WORKFLOWS_PATH ? resolve(process.env.HERALD_REPLAY_WORKFLOWS_PATH) : heraldWorkflowsPath;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Recorded {
  scenario: string;
  workflowId: string;
  history: History;
}

function loadHistories(): Recorded[] {
  return readdirSync(historiesDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(historiesDir, name), 'utf8')));
      // The scenario name doubles as the workflow ID, so each result names its file.
      return { scenario: basename(name, '.json'), workflowId: basename(name, '.json'), history };
    });
}

/** Every payload of a history, decoded to text (the recorded histories are not encrypted). */
function payloadTexts(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) return out;
  if (Array.isArray(value)) for (const item of value) payloadTexts(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'data' && item instanceof Uint8Array) out.push(Buffer.from(item).toString('utf8'));
      else payloadTexts(item, out);
    }
  }
  return out;
}

/**
 * What test/histories/record-steps.ts makes its people of: userIds, email addresses, the phone
 * number, context values and the templates' text, none of which may reach a history.
 */
const STEPS_PERSONAL_MARKERS = ['steps-person-', '@example.com', '+1415555', 'ctx-value-', 'rendered-body'];

const bundlerLogger = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

describe('workflow replay', () => {
  const recorded = loadHistories();
  let results: ReplayResult[];

  beforeAll(async () => {
    results = [];
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: bundlerLogger as never });
    const replay = Worker.runReplayHistories(
      { workflowBundle, replayName: 'herald-recorded-histories' },
      recorded.map(({ workflowId, history }) => ({ workflowId, history })),
    );
    for await (const result of replay) results.push(result);
  }, 120_000);

  it('finds the recorded histories', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(5);
    const types = new Set(recorded.map(({ history }) => history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
    expect(types).toEqual(
      new Set([
        'audienceExecution',
        'campaignStepsExecution',
        'foldReportRollups',
        'highThroughputDispatcher',
        'campaignActivation',
        'purgeExpiredContent',
        'sweepOrphanedExecutions',
        'triggerExecution',
        'webhookDispatcher',
      ]),
    );
  });

  it('covers a webhook dispatcher: deliveries polled with durable timers, ids and counts only', () => {
    const dispatcher = recorded.find((r) => r.scenario === 'webhook-dispatcher');
    expect(dispatcher, 'npm run record-histories -- webhook-dispatcher').toBeDefined();
    const events = dispatcher!.history.events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverWebhookBatch').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.timerStartedEventAttributes)).toBe(true);
    const text = payloadTexts(dispatcher!.history).join('\n');
    expect(text).toContain('"endpointId"');
    expect(text).not.toContain('whsec_');
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('replay-webhook@example.com');
  });

  it('covers a high-throughput dispatcher: drain sessions behind their patch, then an idle timer; partition, settings and counts only', () => {
    const dispatcher = recorded.find((r) => r.scenario === 'high-throughput-dispatcher');
    expect(dispatcher, 'npm run record-histories -- high-throughput-dispatcher').toBeDefined();
    const events = dispatcher!.history.events ?? [];
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'drainHighThroughputPartition').length).toBeGreaterThanOrEqual(
      1,
    );
    expect(events.some((e) => e.timerStartedEventAttributes)).toBe(true);
    const text = payloadTexts(dispatcher!.history).join('\n');
    expect(text).toContain('"sessionMs"');
    expect(text).toContain('"triggers"');
    expect(text).not.toContain('@example.com');
    expect(text).not.toContain('replay-ht');
  });

  it('covers a high-throughput dispatcher from before drain sessions: one batch per activity', () => {
    const before = recorded.find((r) => r.scenario === 'high-throughput-dispatcher-before-drain-sessions');
    expect(before).toBeDefined();
    const events = before!.history.events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'dispatchHighThroughputBatch').length).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.markerRecordedEventAttributes)).toBe(false);
    expect(payloadTexts(before!.history).join('\n')).toContain('"batchId"');
  });

  it('covers a quiet-hours deferral: a durable timer, then the durable send', () => {
    const deferred = recorded.find((r) => r.scenario === 'trigger-quiet-hours-deferred');
    expect(deferred, 'npm run record-histories -- trigger-quiet-hours-deferred').toBeDefined();
    const events = deferred!.history.events ?? [];
    const timer = events.findIndex((e) => e.timerStartedEventAttributes);
    const send = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage');
    expect(timer).toBeGreaterThan(0);
    expect(send).toBeGreaterThan(timer);
  });

  it('covers an audience run: batches paced by timers, no member in history', () => {
    const run = recorded.find((r) => r.scenario === 'audience-throttled-run');
    expect(run, 'npm run record-histories -- audience-throttled-run').toBeDefined();
    const events = run!.history.events ?? [];
    const batches = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendAudienceBatch');
    expect(batches).toHaveLength(3);
    expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeGreaterThanOrEqual(2);
    expect(payloadTexts(run!.history).join('\n')).toContain('replay-audience-throttled');
    expect(payloadTexts(run!.history).join('\n')).not.toContain('replay-audience-1@example.com');
  });

  describe('campaign steps (npm run record-histories:steps)', () => {
    const steps = (scenario: string) => {
      const run = recorded.find((r) => r.scenario === scenario);
      expect(run, `npm run record-histories:steps -- ${scenario}`).toBeDefined();
      return run!.history.events ?? [];
    };
    const activities = (events: HistoryEvent[], name: string) => events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
    const signals = (events: HistoryEvent[], name: string) => events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name);
    const timers = (events: HistoryEvent[]) => events.filter((e) => e.timerStartedEventAttributes);
    /** The timer's summary, as the Temporal UI shows it. */
    const timerSummaries = (events: HistoryEvent[]) => timers(events).map((e) => JSON.parse(payloadTexts(e.userMetadata?.summary).join('')));
    /** The decoded input of an activity the workflow scheduled, and its result. */
    const input = (scheduled: HistoryEvent) => JSON.parse(payloadTexts(scheduled.activityTaskScheduledEventAttributes?.input).join(''));
    const output = (events: HistoryEvent[], scheduled: HistoryEvent) => {
      const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
      return JSON.parse(payloadTexts(completed?.activityTaskCompletedEventAttributes?.result).join(''));
    };
    const result = (events: HistoryEvent[]) => JSON.parse(payloadTexts(events.at(-1)?.workflowExecutionCompletedEventAttributes?.result).join(''));

    it('covers a delay then a send: one timer named after the step, then the durable send', () => {
      const events = steps('campaign-steps-delay-then-send');
      expect(timerSummaries(events)).toEqual(['delay "wait"']);
      const fired = events.findIndex((e) => e.timerFiredEventAttributes);
      expect(fired).toBeGreaterThan(0);
      expect(fired).toBeLessThan(events.indexOf(activities(events, 'sendMessage')[0]!));
      expect(result(events)).toMatchObject({ sent: 1 });
    });

    it('covers a digest that opens (waits out its window, then one send for three triggers) and one that joins (ends at once)', () => {
      const opened = steps('campaign-steps-digest-opened');
      expect(activities(opened, 'joinDigest')).toHaveLength(1);
      expect(timers(opened)).toHaveLength(1);
      const [close] = activities(opened, 'closeDigest');
      expect(input(close!)).toMatchObject({ stepId: 'gather' });
      expect(output(opened, close!)).toEqual({ count: 3 });
      expect(activities(opened, 'sendMessage')).toHaveLength(1);
      const joined = steps('campaign-steps-digest-joined');
      expect(timers(joined)).toHaveLength(0);
      expect(activities(joined, 'sendMessage')).toHaveLength(0);
      expect(result(joined)).toHaveProperty('digestExecutionId');
    });

    it('covers waitForEvent ended by its event (ifEvent stop) and by its timeout (ifTimeout continue)', () => {
      const stopped = steps('campaign-steps-event-stops');
      expect(signals(stopped, 'eventArrived')).toHaveLength(1);
      expect(stopped.some((e) => e.timerCanceledEventAttributes)).toBe(true);
      expect(activities(stopped, 'sendMessage')).toHaveLength(0);
      const timedOut = steps('campaign-steps-event-timeout-continues');
      expect(signals(timedOut, 'eventArrived')).toHaveLength(0);
      expect(timedOut.some((e) => e.timerFiredEventAttributes)).toBe(true);
      expect(activities(timedOut, 'sendMessage')).toHaveLength(1);
    });

    it('covers a condition that holds and one that stops', () => {
      const holds = steps('campaign-steps-condition-holds');
      expect(activities(holds, 'checkStepCondition')).toHaveLength(1);
      expect(activities(holds, 'sendMessage')).toHaveLength(1);
      const stops = steps('campaign-steps-condition-stops');
      expect(activities(stops, 'checkStepCondition')).toHaveLength(1);
      expect(activities(stops, 'sendMessage')).toHaveLength(0);
      expect(result(stops)).toMatchObject({ sent: 0, excluded: 1 });
    });

    it('covers an email then an SMS: two sends, each its own message', () => {
      const events = steps('campaign-steps-email-then-sms');
      const prepared = activities(events, 'prepareStepSend').map(input);
      expect(prepared.map(({ stepId, sendOrdinal }) => [stepId, sendOrdinal])).toEqual([
        ['email', 0],
        ['sms', 1],
      ]);
      expect(activities(events, 'sendMessage')).toHaveLength(2);
      expect(result(events)).toMatchObject({ sent: 2 });
    });

    it('covers a run cancelled in its delay: the timer cancelled, nothing sent', () => {
      const events = steps('campaign-steps-cancelled-in-delay');
      expect(signals(events, 'cancelRun')).toHaveLength(1);
      expect(events.some((e) => e.timerCanceledEventAttributes)).toBe(true);
      expect(activities(events, 'sendMessage')).toHaveLength(0);
      expect(result(events)).toMatchObject({ sent: 0, excluded: 1 });
    });

    it('covers quiet hours inside a send step: a timer until they end, then the durable send', () => {
      const events = steps('campaign-steps-quiet-hours-deferred');
      expect(timerSummaries(events)).toEqual(['quiet hours before send "offer"']);
      expect(events.indexOf(timers(events)[0]!)).toBeLessThan(events.indexOf(activities(events, 'sendMessage')[0]!));
    });

    it.each(recorded.filter((r) => r.scenario.startsWith('campaign-steps-')).map((r) => r.scenario))(
      '%s holds no personal data: no userId, address, context value or rendered content',
      (scenario) => {
        const run = recorded.find((r) => r.scenario === scenario)!;
        // Decoded payloads, and the history's own text (failure messages, ids, summaries' neighbours).
        const text = [...payloadTexts(run.history), readFileSync(join(historiesDir, `${scenario}.json`), 'utf8')].join('\n');
        expect(text).toContain('"executionId"');
        for (const personal of STEPS_PERSONAL_MARKERS) expect(text, `${scenario} holds ${personal}`).not.toContain(personal);
      },
    );
  });

  it('replays one result per history', () => {
    expect(results.map((r) => r.workflowId).sort()).toEqual(recorded.map((r) => r.workflowId).sort());
  });

  it.each(recorded.map((r) => r.scenario))('replays %s deterministically', (scenario) => {
    const result = results.find((r) => r.workflowId === scenario);
    expect(result, `no replay result for ${scenario}`).toBeDefined();
    expect(result!.error, `${scenario}: ${result!.error?.message}`).toBeUndefined();
  });
});
