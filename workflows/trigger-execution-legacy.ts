/**
 * The older branches of `triggerExecution`, kept only so that executions started by an older build
 * replay the commands their history recorded. No new execution runs them: each is reached from
 * `workflows/trigger-execution.ts` when a `patched()` check answers false on replay, and it issues
 * its commands exactly as the code did before that patch. Change nothing here but deletions: when
 * each branch may go is written above its patch id in `trigger-execution.ts`.
 *
 * This file imports nothing from `trigger-execution.ts` (an import circle, even of types, breaks
 * the import rules): what the older branches share with today's path is handed in as `TodaysPath`,
 * and the ids of the patches checked in here are passed as arguments.
 */
import {
  ActivityFailure,
  type ActivityInterfaceFor,
  type ApplicationFailure,
  type LocalActivityInterfaceFor,
  patched,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { CampaignSnapshot, CampaignStatus, Schedule } from '../src/domain/campaign';
import type { PositionOutcome, Recipient, RecipientOutcome } from '../src/domain/recipient';
import { prepareRecipient, type PreparationSteps, type PreparedRecipient } from '../src/domain/recipient-preparation';
import { triggerRefusal } from '../src/domain/trigger-refusal';
import type { ClosedCounts } from '../src/repositories/executions';

/** What the older branches reuse of today's path, as `trigger-execution.ts` defines it. */
export interface TodaysPath {
  /** The bounded local steps (the four-local-step path ran the same ones). */
  steps: LocalActivityInterfaceFor<HeraldActivities>;
  /** The durable provider calls: `sendMessage` today, `sendEmail` on the content path. */
  delivery: ActivityInterfaceFor<HeraldActivities>;
  closingOnStepFailure<T>(executionId: string, run: () => Promise<T>): Promise<T>;
  sendDurably(executionId: string, positions: number[]): Promise<PositionOutcome[]>;
  refused(campaignId: string, refusal: string): ApplicationFailure;
  /** The longest provider Retry-After honoured before the durable attempts. */
  maxRetryAfterMs: number;
}

/** Old path's local steps: retried without bound, which is why the new path has its own. */
const local = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: ['TemplateError'] },
});

/**
 * The quick attempt: one try, bounded well past PROVIDER_TIMEOUT_MS; a failure of the whole
 * attempt sends every message the durable way, which is idempotent per message.
 */
const quick = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '40 seconds',
  retry: { maximumAttempts: 1 },
});

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The campaign window judged in the workflow, by workflow time (today `runTriggerNow` is given that time). */
function refusalOf(status: CampaignStatus, schedule: Schedule): string | undefined {
  return triggerRefusal(status, schedule, Date.now());
}

// ── Before ONE_STEP_ON_THE_HAPPY_PATH: four local steps (gate, preparation, quick sends, close) ──

/**
 * The reference path of executions started before ONE_STEP_ON_THE_HAPPY_PATH: the campaign gate
 * and the preparation, the sends, then the close, each its own local activity. `sendInTheSameTask`
 * is SEND_IN_THE_SAME_TASK, checked where it always was: after the preparation.
 */
export async function runInFourLocalSteps(
  { executionId, campaignId }: { executionId: string; campaignId: string },
  today: TodaysPath,
  sendInTheSameTask: string,
): Promise<{ executionId: string } & ClosedCounts> {
  const { steps, closingOnStepFailure } = today;
  const { ready } = await closingOnStepFailure(executionId, async () => {
    const gate = await steps.loadCampaignGate(campaignId);
    const refusal = refusalOf(gate.status, gate.schedule);
    if (refusal) {
      await steps.closeExecution({ executionId, outcomes: [], failureReason: refusal });
      throw today.refused(campaignId, refusal);
    }
    return steps.prepareExecution({ executionId });
  });
  // Before SEND_IN_THE_SAME_TASK every send was a durable `sendMessage` activity.
  const outcomes = patched(sendInTheSameTask) ? await sendQuicklyThenDurably(today, executionId, ready) : await today.sendDurably(executionId, ready);
  const counts = await closingOnStepFailure(executionId, () => steps.closeExecution({ executionId, outcomes }));
  return { executionId, ...counts };
}

/** One local attempt at every send in the same workflow task; the durable `sendMessage` only for what it leaves. */
async function sendQuicklyThenDurably(today: TodaysPath, executionId: string, positions: number[]): Promise<PositionOutcome[]> {
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
    if (left.length > 0 && attempt.retryAfterMs) await sleep(Math.min(attempt.retryAfterMs, today.maxRetryAfterMs));
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
  }
  return [...quickOutcomes, ...(await today.sendDurably(executionId, left))];
}

// ── Before REFERENCES_NOT_CONTENT: the content path, whose history carries recipients and context ──

/** The input of executions started before REFERENCES_NOT_CONTENT: it carried the call's content. */
export interface ContentPathInput {
  executionId: string;
  campaignId: string;
  recipients?: Recipient[];
  context?: Record<string, unknown>;
}

/**
 * The path of executions started before REFERENCES_NOT_CONTENT, whose history carries the content.
 * `prepareInOneStep` is PREPARE_IN_ONE_STEP, checked where it always was: after the campaign gate.
 */
export async function runWithContent(
  input: ContentPathInput,
  today: TodaysPath,
  prepareInOneStep: string,
): Promise<{ executionId: string; recipients: RecipientOutcome[] }> {
  const campaign = await local.loadCampaignSnapshot(input.campaignId);
  const refusal = refusalOf(campaign.status, campaign.schedule);
  if (refusal) {
    await local.completeExecution(input.executionId, [], refusal);
    throw today.refused(input.campaignId, refusal);
  }

  const prepared = await prepareAll(input, input.recipients ?? [], campaign, prepareInOneStep);
  const outcomes = await Promise.all(prepared.map((p) => send(today, input, campaign, p)));
  await local.completeExecution(input.executionId, outcomes);
  return { executionId: input.executionId, recipients: outcomes };
}

/** Executions started before PREPARE_IN_ONE_STEP ran two local activities per recipient. */
const perRecipientSteps: PreparationSteps = {
  resolveProfile: (input) => local.resolveRecipientProfile(input),
  render: (input) => local.renderEmail(input),
  renderFailure: failureMessage,
};

async function prepareAll(
  input: ContentPathInput,
  recipients: Recipient[],
  campaign: CampaignSnapshot,
  prepareInOneStep: string,
): Promise<PreparedRecipient[]> {
  if (patched(prepareInOneStep)) {
    return local.prepareRecipients({ executionId: input.executionId, campaign, recipients, ...(input.context && { context: input.context }) });
  }
  const prepared: PreparedRecipient[] = [];
  for (const recipient of recipients) prepared.push(await prepareRecipient(perRecipientSteps, input.executionId, campaign, recipient, input.context));
  return prepared;
}

async function send(today: TodaysPath, input: ContentPathInput, campaign: CampaignSnapshot, prepared: PreparedRecipient): Promise<RecipientOutcome> {
  if ('outcome' in prepared) return prepared.outcome;
  const { base, address, rendered } = prepared;
  try {
    const { messageId } = await today.delivery.sendEmail({
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
