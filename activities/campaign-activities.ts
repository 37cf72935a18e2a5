import { ApplicationFailure } from '@temporalio/activity';
import type { CampaignSnapshot, CampaignStatus, Schedule } from '../src/domain/campaign';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';

/** What a trigger workflow needs to decide whether the campaign takes it: no content, no names. */
export interface CampaignGate {
  status: CampaignStatus;
  schedule: Schedule;
}

export function campaignActivities(campaigns: CampaignRepository) {
  async function load(campaignId: string) {
    const campaign = await campaigns.get(campaignId);
    if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not exist`, 'CampaignNotFound');
    return campaign;
  }
  return {
    /** Old path: the whole snapshot, templates included, into the workflow's history. */
    async loadCampaignSnapshot(campaignId: string): Promise<CampaignSnapshot> {
      return toSnapshot(await load(campaignId));
    },
    async loadCampaignGate(campaignId: string): Promise<CampaignGate> {
      const { status, schedule } = await load(campaignId);
      return { status, schedule };
    },
    async setCampaignStatus(campaignId: string, status: CampaignStatus): Promise<void> {
      await campaigns.setStatus(campaignId, status);
    },
  };
}
