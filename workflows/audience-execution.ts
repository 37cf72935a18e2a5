import { ActivityFailure, continueAsNew, proxyActivities, setCurrentDetails, sleep, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { AudienceBatchResult } from '../activities/audience-run';
import { AUDIENCE_EXCLUSIONS, nextBatchNotBefore } from '../src/domain/audience-execution';

/** Where a run stands: what continueAsNew hands on. Ids, positions and counts only. */
export interface AudienceRunCursor {
  targeted: number;
  runStartedMs: number;
  deadlineMs: number;
  batchSize: number;
  throttlePerSecond?: number;
  /** The first position the main pass has not covered yet. */
  nextPosition: number;
  sent: number;
  failed: number;
  excluded: number;
  deferred: number;
}

export interface AudienceExecutionInput {
  executionId: string;
  campaignId: string;
  /** Set by continueAsNew: the run goes on from there. */
  cursor?: AudienceRunCursor;
}

/** Counts and ids only: a workflow result is history too. */
export interface AudienceExecutionResult {
  executionId: string;
  targeted: number;
  sent: number;
  failed: number;
  excluded: number;
}

/** Batches per run before continuing as new, far below Temporal's history limits (about 8 events per batch). */
const BATCHES_PER_RUN = 250;

/** Freezing a large audience is one INSERT … SELECT; it may take a while on a busy database. */
const { beginAudienceRun, nextDeferredMessage, closeAudienceRun } = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['ExecutionNotFound', 'CampaignNotFound'] },
});

/**
 * A batch retries until the provider takes its messages (the same email block is sent with the
 * same key, and messages recorded as sent are skipped), but never past the run's window.
 */
function batchActivities(deadlineMs: number) {
  const left = Math.max(1000, deadlineMs - Date.now());
  return proxyActivities<HeraldActivities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '20 seconds',
    scheduleToCloseTimeout: left,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: ['ExecutionNotFound', 'CampaignNotFound'],
    },
  });
}

function showProgress(cursor: AudienceRunCursor, phase: string): void {
  const done = cursor.sent + cursor.failed + cursor.excluded;
  setCurrentDetails(
    `${phase} · ${Math.min(cursor.nextPosition, cursor.targeted)} of ${cursor.targeted} recipients processed · sent ${cursor.sent} · failed ${cursor.failed} · excluded ${cursor.excluded} · deferred ${cursor.deferred} · ${done} closed`,
  );
}

/**
 * One run per audience execution: freezes the audience's members at start, then walks them in
 * batches of activities that each prepare and send many recipients (never a workflow per
 * profile), paced by the throttle with workflow timers, continuing as new to keep history small.
 * Messages deferred by quiet hours are sent when their durable timer fires. The run window
 * (HERALD_AUDIENCE_MAX_RUNTIME) and a stopped campaign end it early; what was not sent is then
 * excluded with the reason.
 */
export async function audienceExecution(input: AudienceExecutionInput): Promise<AudienceExecutionResult> {
  const { executionId } = input;
  let cursor = input.cursor;
  if (!cursor) {
    const begun = await beginAudienceRun({ executionId, nowMs: Date.now() });
    if (begun.kind === 'refused') {
      setCurrentDetails(`refused: ${begun.reason}`);
      return { executionId, targeted: 0, sent: 0, failed: 0, excluded: 0 };
    }
    const { targeted, runStartedMs, deadlineMs, batchSize, throttlePerSecond } = begun;
    cursor = {
      targeted,
      runStartedMs,
      deadlineMs,
      batchSize,
      ...(throttlePerSecond !== undefined && { throttlePerSecond }),
      nextPosition: 0,
      sent: 0,
      failed: 0,
      excluded: 0,
      deferred: 0,
    };
  }
  const add = (result: Extract<AudienceBatchResult, { kind: 'done' }>) => {
    cursor!.sent += result.sent;
    cursor!.failed += result.failed;
    cursor!.excluded += result.excluded;
    cursor!.deferred += result.deferred;
  };
  const finish = async (excludeRemaining?: string) => {
    const counts = await closeAudienceRun({ executionId, ...(excludeRemaining && { excludeRemaining }) });
    setCurrentDetails(
      `${excludeRemaining ? `ended early (${excludeRemaining})` : 'completed'} · ${cursor!.targeted} recipients · sent ${counts.sent} · failed ${counts.failed} · excluded ${counts.excluded}`,
    );
    return { executionId, targeted: cursor!.targeted, ...counts };
  };
  /** Runs one batch; a batch that could not finish before the window closed ends the run. */
  const batch = async (from: number, to: number, limit?: number): Promise<AudienceBatchResult | 'window-expired'> => {
    try {
      return await batchActivities(cursor!.deadlineMs).sendAudienceBatch({ executionId, from, to, nowMs: Date.now(), ...(limit !== undefined && { limit }) });
    } catch (error) {
      // The batch's schedule-to-close timeout is the rest of the run's window.
      if (error instanceof ActivityFailure && error.cause instanceof TimeoutFailure) return 'window-expired';
      throw error;
    }
  };

  // The main pass, batch by batch.
  let batches = 0;
  while (cursor.nextPosition < cursor.targeted) {
    if (Date.now() >= cursor.deadlineMs) return finish(AUDIENCE_EXCLUSIONS.windowExpired);
    const startedMs = Date.now();
    const result = await batch(cursor.nextPosition, cursor.nextPosition + cursor.batchSize);
    if (result === 'window-expired') return finish(AUDIENCE_EXCLUSIONS.windowExpired);
    if (result.kind === 'stopped') return finish(result.reason);
    add(result);
    cursor.nextPosition += cursor.batchSize;
    showProgress(cursor, 'sending');
    const notBefore = nextBatchNotBefore(startedMs, result.sent, cursor.throttlePerSecond);
    if (notBefore > Date.now()) await sleep(notBefore - Date.now());
    batches++;
    if (cursor.nextPosition < cursor.targeted && (batches >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof audienceExecution>({ executionId, campaignId: input.campaignId, cursor });
    }
  }

  // Messages deferred by quiet hours: a durable timer to the earliest, then a batch of those due.
  for (;;) {
    const next = await nextDeferredMessage(executionId);
    if (next === null) break;
    if (next >= cursor.deadlineMs) {
      await sleep(Math.max(0, cursor.deadlineMs - Date.now()));
      return finish(AUDIENCE_EXCLUSIONS.windowExpired);
    }
    showProgress(cursor, `waiting for quiet hours to end at ${new Date(next).toISOString()}`);
    if (next > Date.now()) await sleep(next - Date.now());
    const startedMs = Date.now();
    const result = await batch(0, cursor.targeted, cursor.batchSize);
    if (result === 'window-expired') return finish(AUDIENCE_EXCLUSIONS.windowExpired);
    if (result.kind === 'stopped') return finish(result.reason);
    add(result);
    showProgress(cursor, 'sending deferred messages');
    const notBefore = nextBatchNotBefore(startedMs, result.sent, cursor.throttlePerSecond);
    if (notBefore > Date.now()) await sleep(notBefore - Date.now());
  }
  return finish();
}
