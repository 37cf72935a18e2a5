import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes operators filter on in the Temporal UI, e.g. `CampaignId = "01J…"`. */
export const CampaignIdAttribute = defineSearchAttributeKey('CampaignId', 'KEYWORD');
export const RequestIdAttribute = defineSearchAttributeKey('RequestId', 'KEYWORD');
export const ChannelAttribute = defineSearchAttributeKey('Channel', 'KEYWORD');
export const CampaignTypeAttribute = defineSearchAttributeKey('CampaignType', 'KEYWORD');

export const heraldSearchAttributes = [CampaignIdAttribute, RequestIdAttribute, ChannelAttribute, CampaignTypeAttribute];
