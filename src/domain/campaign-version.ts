import type { Campaign } from './campaign';

/**
 * A version's place in its campaign's life: `draft` (edited on a live campaign, waiting for
 * activation, or the current version of a campaign never activated), `live` (the one triggers
 * render; also the last one of a stopped or completed campaign), `superseded` (replaced by a
 * later version, whether it was ever live or not).
 */
export const CAMPAIGN_VERSION_STATUSES = ['draft', 'live', 'superseded'] as const;
export type CampaignVersionStatus = (typeof CAMPAIGN_VERSION_STATUSES)[number];

/** What a version fixes: every field of the campaign but its id, lifecycle and timestamps. */
export type CampaignVersionFields = Omit<Campaign, 'id' | 'status' | 'version' | 'createdAt' | 'updatedAt' | 'activatedAt'>;

export type CampaignVersion = CampaignVersionFields & {
  version: number;
  status: CampaignVersionStatus;
  createdAt: string;
  activatedAt?: string;
};

/** The campaign as the API answers it: its live version, and the draft version waiting, if any. */
export type CampaignWithDraft = Campaign & { draftVersion?: number };

/**
 * Fields a new version of a scheduled or live campaign may not change: the activation workflow
 * runs on the schedule, deliveries are recorded per channel, and sends read the channel
 * configuration at send time (so calls in flight would change sender mid-way). Stop the campaign
 * and create a new one to change them.
 */
export const FIXED_WHILE_ACTIVE = ['channel', 'schedule', 'channelConfigurationId'] as const;

/** Whether a campaign in this status takes a PATCH as a new draft version. */
export const editsAsNewVersion = (status: Campaign['status']): boolean => status === 'live' || status === 'scheduled';
