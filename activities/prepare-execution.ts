import { ApplicationFailure } from '@temporalio/activity';
import { prepareRecipient, type PreparationSteps } from '../src/domain/recipient-preparation';
import { TemplateError } from '../src/domain/template-renderer';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';
import type { DeliveryRepository, PreparedDelivery } from '../src/repositories/deliveries';
import type { ExecutionRepository } from '../src/repositories/executions';
import type { ProfileRepository } from '../src/repositories/profiles';
import { resolveProfile } from './profile-activities';
import { isTracked, TrackingTokens, trackingUrls } from '../src/domain/tracking';
import type { EmailTracking } from '../src/domain/rendered-email';
import type { Campaign } from '../src/domain/campaign';
import type { HeraldConfig } from '../src/config/env';

export interface PrepareExecutionInput {
  executionId: string;
}

export interface PreparedExecution {
  /** Positions ready to send; every other recipient's outcome is already recorded in Herald's database. */
  ready: number[];
}

export interface PrepareExecutionDependencies {
  campaigns: CampaignRepository;
  profiles: ProfileRepository;
  executions: ExecutionRepository;
  deliveries: DeliveryRepository;
  renderer: TemplateRenderer;
  /** Engagement tracking: HERALD_PUBLIC_URL and the HMAC keys, read at each preparation. */
  tracking?: Pick<HeraldConfig, 'publicUrl' | 'tracking'>;
}

/**
 * The tracking of each recipient's render, for a tracked email or SMS campaign; undefined when the
 * campaign tracks nothing. A worker without HERALD_TRACKING_SECRET (activation reviews the
 * API's) sends untracked rather than not at all, and says so.
 */
function emailTrackingFor(campaign: Campaign, settings: PrepareExecutionDependencies['tracking'], executionId: string): ((position: number) => EmailTracking) | undefined {
  // Email: the pixel and the HTML's links. SMS: the body's links (clicks only; review refuses opens).
  const sms = campaign.channel === 'sms';
  if ((campaign.channel !== 'email' && !sms) || !isTracked(campaign.tracking) || (sms && !campaign.tracking.clicks)) return undefined;
  if (!settings || settings.tracking.secrets.length === 0) {
    console.warn(`[herald] campaign ${campaign.id} tracks engagement but this worker has no HERALD_TRACKING_SECRET: execution ${executionId} is sent untracked`);
    return undefined;
  }
  const tokens = new TrackingTokens(settings.tracking.secrets);
  const { opens = false, clicks = false } = campaign.tracking;
  return (position) => {
    const urls = trackingUrls(settings.publicUrl, tokens, executionId, position);
    return sms ? { opens: false, clicks, openUrl: urls.open, clickUrl: urls.click, part: 'text' } : { opens, clicks, openUrl: urls.open, clickUrl: urls.click };
  };
}

export function prepareExecutionActivities({ campaigns, profiles, executions, deliveries, renderer, tracking }: PrepareExecutionDependencies) {
  const steps: PreparationSteps = {
    resolveProfile: (input) => resolveProfile(profiles, input),
    render: (input) => renderer.renderEmail(input),
    renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
  };
  return {
    /**
     * Reads the trigger call back from Herald's database, resolves every profile, applies consent,
     * finds each address and renders in the sandboxed renderer (all recipients at once), then
     * stores the outcome or the rendered message of each. Only positions go back to the workflow,
     * so no address, context or body enters its history. Safe to retry as a whole.
     */
    async prepareExecution({ executionId }: PrepareExecutionInput): Promise<PreparedExecution> {
      const request = await executions.storedRequest(executionId);
      if (!request) throw ApplicationFailure.nonRetryable(`Execution ${executionId} does not exist`, 'ExecutionNotFound');
      // The version the execution recorded when it was accepted: a switch since does not change what it sends.
      const campaign = await campaigns.getAtVersion(request.campaignId, request.campaignVersion);
      if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${request.campaignId} does not exist`, 'CampaignNotFound');
      const snapshot = toSnapshot(campaign);
      const emailTracking = emailTrackingFor(campaign, tracking, executionId);
      const prepared = await Promise.all(
        request.recipients.map(async (recipient): Promise<PreparedDelivery> => {
          // Tracked: each recipient's render gets its own signed pixel and link addresses.
          const recipientSteps: PreparationSteps = emailTracking ? { ...steps, render: (input) => renderer.renderEmail(input, emailTracking(recipient.position)) } : steps;
          const result = await prepareRecipient(recipientSteps, executionId, snapshot, recipient, request.context);
          if ('outcome' in result) {
            const { status, reason, profileCreated, address } = result.outcome;
            return { position: recipient.position, profileCreated, ...(address && { address }), outcome: { status: status === 'excluded' ? 'excluded' : 'failed', reason: reason ?? status } };
          }
          return { position: recipient.position, profileCreated: result.base.profileCreated, address: result.address, message: result.rendered, ...(result.locale && { locale: result.locale }) };
        }),
      );
      await deliveries.recordPreparation(executionId, campaign.channel, prepared);
      return { ready: prepared.filter((p) => 'message' in p).map((p) => p.position) };
    },
  };
}
