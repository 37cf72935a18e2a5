import { ActivityFailure, ApplicationFailure, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import { acceptsTriggers, scheduleWindowPosition, type CampaignSnapshot } from '../src/domain/campaign';
import type { Recipient, RecipientOutcome } from '../src/domain/recipient';
import { prepareRecipient, type PreparationSteps, type PreparedRecipient } from '../src/domain/recipient-preparation';

export interface TriggerExecutionInput {
  executionId: string;
  requestId: string;
  campaignId: string;
  recipients: Recipient[];
  context?: Record<string, unknown>;
}

export interface TriggerExecutionResult {
  executionId: string;
  recipients: RecipientOutcome[];
}

/** Cheap, local steps: database reads and writes and template rendering on the worker itself. */
const local = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: ['TemplateError'] },
});

/**
 * Provider calls retry until the provider accepts (the idempotency key makes that safe), for
 * up to a day, which is how long Resend remembers an idempotency key.
 */
const delivery = proxyActivities<HeraldActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '23 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['ProviderRejected'] },
});

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Executions started before PREPARE_IN_ONE_STEP ran two local activities per recipient. */
const perRecipientSteps: PreparationSteps = {
  resolveProfile: (input) => local.resolveRecipientProfile(input),
  render: (input) => local.renderEmail(input),
  renderFailure: failureMessage,
};

/**
 * Patch: prepare every recipient in one local activity (prepareRecipients) instead of two per
 * recipient. At 20 recipients that is 1 marker and 1 activation instead of 40.
 */
export const PREPARE_IN_ONE_STEP = 'prepare-recipients-in-one-local-activity';

async function prepareAll(input: TriggerExecutionInput, campaign: CampaignSnapshot): Promise<PreparedRecipient[]> {
  if (patched(PREPARE_IN_ONE_STEP)) {
    return local.prepareRecipients({ executionId: input.executionId, campaign, recipients: input.recipients, ...(input.context && { context: input.context }) });
  }
  const prepared: PreparedRecipient[] = [];
  for (const recipient of input.recipients) prepared.push(await prepareRecipient(perRecipientSteps, input.executionId, campaign, recipient, input.context));
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

/**
 * One run per trigger call: checks the campaign window, prepares each recipient, sends to all
 * of them concurrently, then records every outcome at once.
 *
 * Local activities run strictly one at a time. Concurrent local activities whose branches take
 * different paths are issued in a different order on replay (their results arrive batched),
 * which is nondeterminism; the concurrent phase uses only regular activities, one per branch.
 */
export async function triggerExecution(input: TriggerExecutionInput): Promise<TriggerExecutionResult> {
  const campaign = await local.loadCampaignSnapshot(input.campaignId);
  const refusal = !acceptsTriggers(campaign.status)
    ? 'campaign-not-live'
    : scheduleWindowPosition(campaign.schedule, Date.now()) !== 'open'
      ? 'campaign-outside-schedule'
      : undefined;
  if (refusal) {
    await local.completeExecution(input.executionId, [], refusal);
    throw ApplicationFailure.nonRetryable(`Campaign ${input.campaignId} does not accept triggers now (${refusal})`, refusal);
  }

  const prepared = await prepareAll(input, campaign);
  const outcomes = await Promise.all(prepared.map((p) => send(input, campaign, p)));
  await local.completeExecution(input.executionId, outcomes);
  return { executionId: input.executionId, recipients: outcomes };
}
