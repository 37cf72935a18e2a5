import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
import type { RenderedEmail } from '../activities/render-activities';
import { acceptsTriggers, scheduleWindowPosition, type CampaignSnapshot } from '../src/domain/campaign';
import { consentExclusion } from '../src/domain/consent';
import { mergeContext, resolveEmailAddress, type Recipient, type RecipientOutcome } from '../src/domain/recipient';

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

type Prepared = { outcome: RecipientOutcome } | { base: Pick<RecipientOutcome, 'userId' | 'profileCreated'>; address: string; rendered: RenderedEmail };

/** Resolves the profile, applies consent and renders: everything before the provider call. */
async function prepareRecipient(input: TriggerExecutionInput, campaign: CampaignSnapshot, recipient: Recipient): Promise<Prepared> {
  const seedAttributes = recipient.channelData?.emailAddress ? { email: recipient.channelData.emailAddress } : {};
  const { profile, created } = await local.resolveRecipientProfile({
    namespace: recipient.namespace,
    userId: recipient.userId,
    createMissing: campaign.audience.createMissingProfiles,
    executionId: input.executionId,
    seedAttributes,
  });
  const base = { userId: recipient.userId, profileCreated: created };
  if (!profile) return { outcome: { ...base, status: 'failed', reason: 'profile-not-found' } };

  const exclusion = consentExclusion(campaign.type, campaign.channel, profile.consents);
  if (exclusion) return { outcome: { ...base, status: 'excluded', reason: exclusion } };

  const address = resolveEmailAddress(recipient, profile.attributes);
  if (!address) return { outcome: { ...base, status: 'failed', reason: 'no-email-address' } };

  try {
    const rendered = await local.renderEmail({ content: campaign.content, profile: profile.attributes, context: mergeContext(input.context, recipient.context) });
    return { base, address, rendered };
  } catch (error) {
    return { outcome: { ...base, address, status: 'failed', reason: `render-error: ${failureMessage(error)}` } };
  }
}

async function send(input: TriggerExecutionInput, campaign: CampaignSnapshot, prepared: Prepared): Promise<RecipientOutcome> {
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

  const prepared: Prepared[] = [];
  for (const recipient of input.recipients) prepared.push(await prepareRecipient(input, campaign, recipient));
  const outcomes = await Promise.all(prepared.map((p) => send(input, campaign, p)));
  await local.completeExecution(input.executionId, outcomes);
  return { executionId: input.executionId, recipients: outcomes };
}
