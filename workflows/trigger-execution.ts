import { ActivityFailure, ApplicationFailure, patched, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { PositionOutcome, Recipient, RecipientOutcome } from '../src/domain/recipient';
import { delivery, MAX_RETRY_AFTER_MS, sendDurably } from './durable-send';
import { runInFourLocalSteps, runWithContent, type TodaysPath } from './trigger-execution-legacy';

export interface TriggerExecutionInput {
  executionId: string;
  requestId: string;
  campaignId: string;
  /**
   * Only in executions started before REFERENCES_NOT_CONTENT. Newer inputs carry ids alone: the
   * recipients and context are in Herald's database, keyed by executionId.
   */
  recipients?: Recipient[];
  context?: Record<string, unknown>;
}

/** Counts and ids only: a workflow result is history too. */
export interface TriggerExecutionCounts {
  executionId: string;
  sent: number;
  failed: number;
  excluded: number;
}

/** Executions started before REFERENCES_NOT_CONTENT returned every recipient's outcome. */
export interface TriggerExecutionResult {
  executionId: string;
  recipients: RecipientOutcome[];
}

/*
 * The patches. `patched(id)` answers false only while replaying a history written before the patch,
 * and then sends the run down its older branch (trigger-execution-legacy.ts); new runs always
 * answer true. Retiring a patch takes two releases (docs/architecture.md, "The patches of
 * workflows/trigger-execution.ts"):
 *  1. Once no run started before the patch is still open, or still kept by Temporal after closing
 *     (a query or a reset replays a closed run), `deprecatePatch(id)` replaces `patched(id)`: the
 *     last worker without the patch stopped longer ago than that older branch's longest run plus
 *     the namespace's retention of closed runs (72 h by default, deploy/README.md; not
 *     HERALD_RETENTION_DAYS, which is Herald's database). Check it: `temporal workflow count
 *     --query 'WorkflowType="triggerExecution" AND StartTime < "<when that worker stopped>"'` is 0.
 *     The older branch goes in the same change, since `deprecatePatch` takes no branch, and so do
 *     its histories in test/histories/ (they no longer replay, as they should not).
 *  2. One release later, once no run started by a build with `patched(id)` is open or kept (today's
 *     longest run, about 48 h with a quiet-hours deferral, plus that retention), the
 *     `deprecatePatch(id)` call and the id go too.
 */

/**
 * Patch (since 42a6990): the workflow carries references, not content. Its input holds ids;
 * preparation reads the call from Herald's database and writes the rendered messages back there;
 * sends and the close pass (executionId, position). No address, userId, context or body enters history.
 *
 * Older branch, `runWithContent`: the input carries recipients and context; the campaign snapshot,
 * the preparation (PREPARE_IN_ONE_STEP), one durable `sendEmail` per recipient and
 * `completeExecution` put every address and rendered message in history.
 * Retire: its runs ended within the 23 h of `sendEmail` retries, but their local steps retry without
 * bound while the database is down, so count them before step 1. Deleting the content path also
 * retires PREPARE_IN_ONE_STEP (checked only inside it), `TriggerExecutionResult`, the input's
 * `recipients` and `context`, and the histories `*-with-content.json` and `*-per-recipient-steps.json`.
 */
export const REFERENCES_NOT_CONTENT = 'references-not-content';

/**
 * Patch (since e2cb243): on the reference-based path, first try every send at once as a local
 * activity in the same workflow task as the preparation; only what that attempt leaves (provider
 * unavailable, a hiccup) goes to the durable `sendMessage` activity. The happy path is then one
 * workflow task with no activity task: fewer round trips to Temporal and fewer history events.
 *
 * Older branch, inside `runInFourLocalSteps`: every ready message is its own `sendMessage` activity.
 * Retire: with ONE_STEP_ON_THE_HAPPY_PATH, whose older branch holds this check; this patch is older,
 * so its own bound (about 23 h of durable sends plus retention) is met by then. The histories
 * `*-durable-sends.json` go with it.
 */
export const SEND_IN_THE_SAME_TASK = 'send-in-the-same-task';

/**
 * Patch (since c4330b3): the whole happy path in one local activity (runTriggerNow): the campaign's
 * window judged by workflow time, preparation, one quick attempt at every send, and the close. The
 * workflow is then one workflow task with one marker, the shape of a bare workflow of one local
 * activity. Messages the quick attempt could not send still go to the durable `sendMessage`.
 *
 * Older branch, `runInFourLocalSteps`: `loadCampaignGate`, `prepareExecution`, the sends
 * (SEND_IN_THE_SAME_TASK) and `closeExecution`, each its own local activity.
 * Retire: its runs last at most about 23 h (bounded local steps, a Retry-After of at most 5 minutes,
 * 23 h of `sendMessage`), plus retention. The four-local-step path, SEND_IN_THE_SAME_TASK's check
 * in it and the histories `*-four-local-steps.json` and `*-durable-sends.json` go together; bench/run.ts
 * reads the trigger's shape from these exported ids.
 */
export const ONE_STEP_ON_THE_HAPPY_PATH = 'one-local-step-on-the-happy-path';

/**
 * Patch (since d25b96f): messages of a marketing campaign held back by quiet hours (runTriggerNow's
 * `deferred`) wait on a durable timer until their window ends, then go through the durable `sendMessage`.
 *
 * Older branch: none to move. Without the marker, deferred messages get no timer and no send, and
 * the close leaves them out. No build wrote such a history: before the patch runTriggerNow returned
 * no deferrals, so those runs never reach the check, which is why it is asked only when there are
 * deferrals (it must stay there). Retire: step 1 once no run started before the patch is open or kept
 * (a one-step run, at most about 23 h, plus retention); step 2 once runs that may carry this marker
 * are gone: a deferral waits up to 25 h (a window just short of a day, plus a daylight-saving hour),
 * then 23 h of `sendMessage`, so about 48 h plus retention. No history records the older branch.
 */
export const QUIET_HOURS_DEFER = 'quiet-hours-defer';

/**
 * Patch (since e27604b): prepare every recipient in one local activity (prepareRecipients) instead
 * of two per recipient. Checked only on the content path (REFERENCES_NOT_CONTENT's older branch).
 *
 * Older branch, in `runWithContent`: `resolveRecipientProfile` then `renderEmail` for each
 * recipient in turn. Retire: with REFERENCES_NOT_CONTENT (three hours younger), whose deletion of
 * the content path removes this check; the histories `*-per-recipient-steps.json` go with it.
 */
export const PREPARE_IN_ONE_STEP = 'prepare-recipients-in-one-local-activity';

/**
 * Local steps, bounded: a database that stays down for about two minutes fails the execution with
 * a reason instead of retrying for ever. Preparation renders up to 20 recipients in the sandbox,
 * each with its own time limit, hence the longer timeout.
 */
const steps = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '15 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ExecutionNotFound', 'CampaignNotFound'],
  },
});

/**
 * One run per trigger call. Today: one local activity (runTriggerNow) judges the campaign window,
 * prepares every recipient, tries every send once and closes the execution; only what it leaves
 * (the provider unavailable, quiet hours) waits on timers and goes to the durable `sendMessage`.
 * Runs started before a patch take its older branch (trigger-execution-legacy.ts).
 *
 * Local activities run strictly one at a time. Concurrent local activities whose branches take
 * different paths are issued in a different order on replay (their results arrive batched),
 * which is nondeterminism; the concurrent phase uses only regular activities, one per branch.
 */
export async function triggerExecution(input: TriggerExecutionInput): Promise<TriggerExecutionCounts | TriggerExecutionResult> {
  if (patched(REFERENCES_NOT_CONTENT)) return runByReference(input);
  return runWithContent(input, todaysPath, PREPARE_IN_ONE_STEP);
}

async function runByReference(input: TriggerExecutionInput): Promise<TriggerExecutionCounts> {
  if (patched(ONE_STEP_ON_THE_HAPPY_PATH)) return runInOneStep(input);
  return runInFourLocalSteps(input, todaysPath, SEND_IN_THE_SAME_TASK);
}

async function runInOneStep({ executionId, campaignId }: TriggerExecutionInput): Promise<TriggerExecutionCounts> {
  const step = await closingOnStepFailure(executionId, () => steps.runTriggerNow({ executionId, campaignId, nowMs: Date.now() }));
  if (step.kind === 'refused') throw refused(campaignId, step.refusal);
  if (step.kind === 'closed') return { executionId, ...step.counts };
  const deferred = step.deferred ?? [];
  const [durable, ...afterQuietHours] = await Promise.all([
    (async () => {
      // The provider said when to come back (429 Retry-After): the durable attempts start then.
      if (step.retryAfterMs) await sleep(Math.min(step.retryAfterMs, MAX_RETRY_AFTER_MS));
      return sendDurably(executionId, step.retry);
    })(),
    // Only results from after the patch carry deferrals, so the marker is written only then.
    ...(deferred.length > 0 && patched(QUIET_HOURS_DEFER) ? deferred.map((group) => sendAfter(executionId, group.untilMs, group.positions)) : []),
  ]);
  const counts = await closingOnStepFailure(executionId, () =>
    steps.closeExecution({ executionId, outcomes: [...step.outcomes, ...durable, ...afterQuietHours.flat()] }),
  );
  return { executionId, ...counts };
}

/** Waits on a durable timer until `untilMs` (the end of the recipients' quiet hours), then sends durably. */
async function sendAfter(executionId: string, untilMs: number, positions: number[]): Promise<PositionOutcome[]> {
  const waitMs = untilMs - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  return sendDurably(executionId, positions);
}

/**
 * Runs local steps that may keep failing past their bounded retries (the database stayed
 * unreachable). Then it records the reason if the database answers now, and fails the workflow
 * either way; the orphan sweep closes the execution from the workflow's status if that last write
 * did not.
 */
async function closingOnStepFailure<T>(executionId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ActivityFailure) {
      try {
        await steps.closeExecution({ executionId, outcomes: [], failureReason: `internal-error: ${error.activityType ?? 'a step'} kept failing` });
      } catch {
        // The sweep reconciles it from the workflow's failed status.
      }
    }
    throw error;
  }
}

const refused = (campaignId: string, refusal: string) =>
  ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not accept triggers now (${refusal})`, refusal);

/** What the older branches reuse of this path, handed to them so that they import nothing from here. */
const todaysPath: TodaysPath = { steps, delivery, closingOnStepFailure, sendDurably, refused, maxRetryAfterMs: MAX_RETRY_AFTER_MS };
