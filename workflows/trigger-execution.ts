import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index';
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

async function deliverToRecipient(input: TriggerExecutionInput, campaign: CampaignSnapshot, recipient: Recipient): Promise<RecipientOutcome> {
  const seedAttributes = recipient.channelData?.emailAddress ? { email: recipient.channelData.emailAddress } : {};
  const { profile, created } = await local.resolveRecipientProfile({
    namespace: recipient.namespace,
    userId: recipient.userId,
    createMissing: campaign.audience.createMissingProfiles,
    executionId: input.executionId,
    seedAttributes,
  });
  const base = { userId: recipient.userId, profileCreated: created };
  if (!profile) return { ...base, status: 'failed', reason: 'profile-not-found' };

  const exclusion = consentExclusion(campaign.type, campaign.channel, profile.consents);
  if (exclusion) return { ...base, status: 'excluded', reason: exclusion };

  const address = resolveEmailAddress(recipient, profile.attributes);
  if (!address) return { ...base, status: 'failed', reason: 'no-email-address' };

  let rendered;
  try {
    rendered = await local.renderEmail({ content: campaign.content, profile: profile.attributes, context: mergeContext(input.context, recipient.context) });
  } catch (error) {
    return { ...base, address, status: 'failed', reason: `render-error: ${failureMessage(error)}` };
  }

  try {
    const { messageId } = await delivery.sendEmail({
      idempotencyKey: `${input.executionId}/${recipient.userId}/email`,
      to: address,
      ...rendered,
      campaignId: campaign.id,
      executionId: input.executionId,
      userId: recipient.userId,
    });
    return { ...base, address, status: 'sent', messageId };
  } catch (error) {
    return { ...base, address, status: 'failed', reason: `provider-rejected: ${failureMessage(error)}` };
  }
}

/** One run per trigger call: checks the campaign window, then delivers to every recipient concurrently. */
export async function triggerExecution(input: TriggerExecutionInput): Promise<TriggerExecutionResult> {
  const campaign = await local.loadCampaignSnapshot(input.campaignId);
  const refusal = !acceptsTriggers(campaign.status)
    ? 'campaign-not-live'
    : scheduleWindowPosition(campaign.schedule, Date.now()) !== 'open'
      ? 'campaign-outside-schedule'
      : undefined;
  if (refusal) {
    await local.finishExecution(input.executionId, 'failed', refusal);
    throw ApplicationFailure.nonRetryable(`Campaign ${input.campaignId} does not accept triggers now (${refusal})`, refusal);
  }

  const outcomes = await Promise.all(
    input.recipients.map(async (recipient) => {
      const outcome = await deliverToRecipient(input, campaign, recipient);
      await local.recordRecipientOutcome(input.executionId, outcome);
      return outcome;
    }),
  );
  await local.finishExecution(input.executionId, 'completed');
  return { executionId: input.executionId, recipients: outcomes };
}
