import type { ChannelConfiguration } from '../domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../repositories/channel-configurations';
import { ProviderRejectedError } from './provider-errors';

/**
 * Which sender one message of a campaign goes out with, the same for every channel: the
 * configuration the failover loop is trying (activities/provider-failover.ts) when it gives one;
 * else the campaign's channel configuration; else the channel's default. A send step on another
 * channel than the campaign's finds the campaign's configuration is not of its channel, and takes
 * its own channel's default. A reference that points nowhere is a permanent refusal.
 *
 * Each channel's `<channel>-senders.ts` says how a configuration becomes a sender (`senderOf`)
 * and what its default is; this is the part they share.
 */
export async function campaignSender<S>(
  configurations: Pick<ChannelConfigurationRepository, 'forCampaign'>,
  channel: string,
  campaignId: string,
  /** The failover loop's choice; null: it found the campaign has none for this channel; undefined: look it up. */
  configuration: ChannelConfiguration | null | undefined,
  senderOf: (configuration: ChannelConfiguration) => S,
  defaultSender: () => S,
): Promise<S> {
  if (configuration) return senderOf(configuration);
  if (configuration === null) return defaultSender();
  const found = await configurations.forCampaign(campaignId);
  if (found.kind === 'none') return defaultSender();
  if (found.kind === 'missing') throw new ProviderRejectedError(`channel configuration ${found.id} no longer exists`);
  if (found.configuration.channel !== channel) return defaultSender();
  return senderOf(found.configuration);
}
