import { ApplicationFailure } from '@temporalio/activity';
import { prepareRecipient, type PreparationSteps } from '../src/domain/recipient-preparation';
import { TemplateError } from '../src/domain/template-renderer';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';
import type { DeliveryRepository, PreparedDelivery } from '../src/repositories/deliveries';
import type { ExecutionRepository } from '../src/repositories/executions';
import type { ProfileRepository } from '../src/repositories/profiles';
import { resolveProfile } from './profile-activities';

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
}

export function prepareExecutionActivities({ campaigns, profiles, executions, deliveries, renderer }: PrepareExecutionDependencies) {
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
      const campaign = await campaigns.get(request.campaignId);
      if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${request.campaignId} does not exist`, 'CampaignNotFound');
      const snapshot = toSnapshot(campaign);
      const prepared = await Promise.all(
        request.recipients.map(async (recipient): Promise<PreparedDelivery> => {
          const result = await prepareRecipient(steps, executionId, snapshot, recipient, request.context);
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
