import { ApplicationFailure } from '@temporalio/activity';
import type { CampaignSnapshot, CampaignStatus } from '../src/domain/campaign';
import { toSnapshot, type CampaignRepository } from '../src/repositories/campaigns';

export function campaignActivities(campaigns: CampaignRepository) {
  return {
    async loadCampaignSnapshot(campaignId: string): Promise<CampaignSnapshot> {
      const campaign = await campaigns.get(campaignId);
      if (!campaign) throw ApplicationFailure.nonRetryable(`Campaign ${campaignId} does not exist`, 'CampaignNotFound');
      return toSnapshot(campaign);
    },
    async setCampaignStatus(campaignId: string, status: CampaignStatus): Promise<void> {
      await campaigns.setStatus(campaignId, status);
    },
  };
}
