import type { CampaignSnapshot } from '../src/domain/campaign';
import type { Recipient } from '../src/domain/recipient';
import { prepareRecipient, type PreparationSteps, type PreparedRecipient } from '../src/domain/recipient-preparation';
import { TemplateError } from '../src/domain/template-renderer';
import type { TemplateRenderer } from '../src/rendering/template-renderer';
import type { ProfileRepository } from '../src/repositories/profiles';
import { resolveProfile } from './profile-activities';

export interface PrepareRecipientsInput {
  executionId: string;
  campaign: CampaignSnapshot;
  recipients: Recipient[];
  context?: Record<string, unknown>;
}

export function prepareRecipientsActivities(profiles: ProfileRepository, renderer: TemplateRenderer) {
  const steps: PreparationSteps = {
    resolveProfile: (input) => resolveProfile(profiles, input),
    render: (input) => renderer.renderEmail(input),
    renderFailure: (error) => (error instanceof TemplateError ? error.message : undefined),
  };
  return {
    /**
     * Every recipient's profile, consent, address and rendering in one local activity: one
     * workflow activation and one history marker per trigger instead of two per recipient.
     * Safe to retry as a whole: profile creation is keyed by the execution.
     */
    async prepareRecipients({ executionId, campaign, recipients, context }: PrepareRecipientsInput): Promise<PreparedRecipient[]> {
      const prepared: PreparedRecipient[] = [];
      for (const recipient of recipients) prepared.push(await prepareRecipient(steps, executionId, campaign, recipient, context));
      return prepared;
    },
  };
}
