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

const historiesDir = fileURLToPath(new URL('../histories/', import.meta.url));
const workflowsPath = process.env.HERALD_REPLAY_WORKFLOWS_PATH ? resolve(process.env.HERALD_REPLAY_WORKFLOWS_PATH) : heraldWorkflowsPath;

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
        'foldReportRollups',
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

  it('replays one result per history', () => {
    expect(results.map((r) => r.workflowId).sort()).toEqual(recorded.map((r) => r.workflowId).sort());
  });

  it.each(recorded.map((r) => r.scenario))('replays %s deterministically', (scenario) => {
    const result = results.find((r) => r.workflowId === scenario);
    expect(result, `no replay result for ${scenario}`).toBeDefined();
    expect(result!.error, `${scenario}: ${result!.error?.message}`).toBeUndefined();
  });
});
