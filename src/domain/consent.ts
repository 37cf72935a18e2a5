import type { CampaignType, Channel } from './campaign';

export type ConsentValue = 'in' | 'out';
export type Consents = Partial<Record<Channel, ConsentValue>>;

/**
 * Transactional messages (password resets, OTPs) need no marketing consent; marketing
 * messages go only to profiles that opted in on the channel. Pure, so workflows may call it.
 */
export function consentExclusion(type: CampaignType, channel: Channel, consents: Consents): 'no-consent' | undefined {
  if (type === 'transactional') return undefined;
  return consents[channel] === 'in' ? undefined : 'no-consent';
}
