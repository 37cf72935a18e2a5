import { ActivityFailure, ApplicationFailure, patched, proxyActivities, proxyLocalActivities, sleep, TimeoutFailure } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { CampaignSnapshot, Schedule, CampaignStatus } from '../src/domain/campaign';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { PositionOutcome, Recipient, RecipientOutcome } from '../src/domain/recipient';
import { prepareRecipient, type PreparationSteps, type PreparedRecipient } from '../src/domain/recipient-preparation';

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

/**
 * Patch: the workflow carries references, not content. Its input holds ids; preparation reads
 * the call from Herald's database and writes the rendered messages back there; sends and the
 * close pass (executionId, position). No address, userId, context or body enters history.
 */
export const REFERENCES_NOT_CONTENT = 'references-not-content';

/**
 * Patch: on the reference-based path, first try every send at once as a local activity in the
 * same workflow task as the preparation; only what that attempt leaves (provider unavailable,
 * a hiccup) goes to the durable `sendMessage` activity. The happy path is then one workflow task
 * with no activity task: fewer round trips to Temporal and fewer history events per trigger.
 */
export const SEND_IN_THE_SAME_TASK = 'send-in-the-same-task';

/**
 * Patch: the whole happy path in one local activity (runTriggerNow): the campaign's window judged
 * by workflow time, preparation, one quick attempt at every send, and the close. The workflow is
 * then one workflow task with one marker, the shape of a bare workflow of one local activity.
 * Messages the quick attempt could not send still go to the durable `sendMessage`.
 */
export const ONE_STEP_ON_THE_HAPPY_PATH = 'one-local-step-on-the-happy-path';

/**
 * Patch: messages of a marketing campaign held back by quiet hours (runTriggerNow's `deferred`)
 * wait on a durable timer until their window ends, then go through the durable `sendMessage`.
 */
export const QUIET_HOURS_DEFER = 'quiet-hours-defer';

/** Patch: prepare every recipient in one local activity (prepareRecipients) instead of two per recipient. */
export const PREPARE_IN_ONE_STEP = 'prepare-recipients-in-one-local-activity';

/** Old path's local steps: retried without bound, which is why the new path has its own. */
const local = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: ['TemplateError'] },
});

/**
 * New path's local steps. Bounded: a database that stays down for about two minutes fails the
 * execution with a reason instead of retrying for ever. Preparation renders up to 20 recipients
 * in the sandbox, each with its own time limit, hence the longer timeout.
 */
const steps = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds', maximumAttempts: 10, nonRetryableErrorTypes: ['ExecutionNotFound', 'CampaignNotFound'] },
});

/**
 * The quick attempt: one try, bounded well past PROVIDER_TIMEOUT_MS; a failure of the whole
 * attempt sends every message the durable way, which is idempotent per message.
 */
const quick = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '40 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * Provider calls retry until the provider accepts (the idempotency key makes that safe), for
 * up to a day, which is how long Resend remembers an idempotency key.
 */
const delivery = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '23 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['ProviderRejected', 'MessageNotSendable'] },
});

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

function refusalOf(status: CampaignStatus, schedule: Schedule): string | undefined {
  return triggerRefusal(status, schedule, Date.now());
}

/**
 * One run per trigger call: checks the campaign window, prepares every recipient, sends to all
 * of them concurrently, then closes the execution.
 *
 * Local activities run strictly one at a time. Concurrent local activities whose branches take
 * different paths are issued in a different order on replay (their results arrive batched),
 * which is nondeterminism; the concurrent phase uses only regular activities, one per branch.
 */
export async function triggerExecution(input: TriggerExecutionInput): Promise<TriggerExecutionCounts | TriggerExecutionResult> {
  if (patched(REFERENCES_NOT_CONTENT)) return runByReference(input);
  return runWithContent(input);
}

/** Why a send did not end in `sent`; the send activity already stored the provider's own words. */
function sendFailureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof TimeoutFailure) return 'provider-timeout';
  if (cause instanceof ApplicationFailure && cause.type === 'ProviderRejected') return 'provider-rejected';
  return 'provider-failed';
}

async function runByReference(input: TriggerExecutionInput): Promise<TriggerExecutionCounts> {
  if (patched(ONE_STEP_ON_THE_HAPPY_PATH)) return runInOneStep(input);
  const { executionId, campaignId } = input;
  const { ready } = await closingOnStepFailure(executionId, async () => {
    const gate = await steps.loadCampaignGate(campaignId);
    const refusal = refusalOf(gate.status, gate.schedule);
    if (refusal) {
      await steps.closeExecution({ executionId, outcomes: [], failureReason: refusal });
      throw refused(campaignId, refusal);
    }
    return steps.prepareExecution({ executionId });
  });
  const outcomes = patched(SEND_IN_THE_SAME_TASK) ? await sendQuicklyThenDurably(executionId, ready) : await sendDurably(executionId, ready);
  const counts = await closingOnStepFailure(executionId, () => steps.closeExecution({ executionId, outcomes }));
  return { executionId, ...counts };
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
  const counts = await closingOnStepFailure(executionId, () => steps.closeExecution({ executionId, outcomes: [...step.outcomes, ...durable, ...afterQuietHours.flat()] }));
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

const refused = (campaignId: string, refusal: string) => ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not accept triggers now (${refusal})`, refusal);

/** One `sendMessage` activity per position, all at once, each retried until the provider accepts. */
function sendDurably(executionId: string, positions: number[]): Promise<PositionOutcome[]> {
  return Promise.all(
    positions.map(async (position): Promise<PositionOutcome> => {
      try {
        await delivery.sendMessage({ executionId, position });
        return { position, status: 'sent' };
      } catch (error) {
        return { position, status: 'failed', reason: sendFailureReason(error) };
      }
    }),
  );
}

/** A provider's Retry-After is honoured up to the durable policy's longest backoff. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

async function sendQuicklyThenDurably(executionId: string, positions: number[]): Promise<PositionOutcome[]> {
  if (positions.length === 0) return [];
  let quickOutcomes: PositionOutcome[] = [];
  let left = positions;
  try {
    const attempt = await quick.sendPreparedNow({ executionId, positions });
    quickOutcomes = [
      ...attempt.sent.map((position): PositionOutcome => ({ position, status: 'sent' })),
      ...attempt.rejected.map((position): PositionOutcome => ({ position, status: 'failed', reason: 'provider-rejected' })),
    ];
    left = attempt.retry;
    // The provider said when to come back (429 Retry-After): the durable attempts start then.
    if (left.length > 0 && attempt.retryAfterMs) await sleep(Math.min(attempt.retryAfterMs, MAX_RETRY_AFTER_MS));
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
  }
  return [...quickOutcomes, ...(await sendDurably(executionId, left))];
}

/** Executions started before PREPARE_IN_ONE_STEP ran two local activities per recipient. */
const perRecipientSteps: PreparationSteps = {
  resolveProfile: (input) => local.resolveRecipientProfile(input),
  render: (input) => local.renderEmail(input),
  renderFailure: failureMessage,
};

async function prepareAll(input: TriggerExecutionInput, recipients: Recipient[], campaign: CampaignSnapshot): Promise<PreparedRecipient[]> {
  if (patched(PREPARE_IN_ONE_STEP)) {
    return local.prepareRecipients({ executionId: input.executionId, campaign, recipients, ...(input.context && { context: input.context }) });
  }
  const prepared: PreparedRecipient[] = [];
  for (const recipient of recipients) prepared.push(await prepareRecipient(perRecipientSteps, input.executionId, campaign, recipient, input.context));
  return prepared;
}

async function send(input: TriggerExecutionInput, campaign: CampaignSnapshot, prepared: PreparedRecipient): Promise<RecipientOutcome> {
  if ('outcome' in prepared) return prepared.outcome;
  const { base, address, rendered } = prepared;
  try {
    const { messageId } = await delivery.sendEmail({
      idempotencyKey: `${input.executionId}/${base.userId}/email`,
      to: address,
      ...rendered,
      campaignId: campaign.id,
      executionId: input.executionId,
      userId: base.userId,
    });
    return { ...base, address, status: 'sent', messageId };
  } catch (error) {
    return { ...base, address, status: 'failed', reason: `provider-rejected: ${failureMessage(error)}` };
  }
}

/** The path of executions started before REFERENCES_NOT_CONTENT, whose history carries the content. */
async function runWithContent(input: TriggerExecutionInput): Promise<TriggerExecutionResult> {
  const campaign = await local.loadCampaignSnapshot(input.campaignId);
  const refusal = refusalOf(campaign.status, campaign.schedule);
  if (refusal) {
    await local.completeExecution(input.executionId, [], refusal);
    throw refused(input.campaignId, refusal);
  }

  const prepared = await prepareAll(input, input.recipients ?? [], campaign);
  const outcomes = await Promise.all(prepared.map((p) => send(input, campaign, p)));
  await local.completeExecution(input.executionId, outcomes);
  return { executionId: input.executionId, recipients: outcomes };
}
