import { configuredSecret } from '../configured-secret';
import type { HeraldConfig } from '../../config/env';
import type { ChannelConfiguration } from '../../domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import { smsRules } from './sms-rules';
import { OutboxSmsProvider } from './outbox-sms-provider';
import type { SmsProvider } from './sms-provider';
import { TwilioSmsProvider } from './twilio-provider';
import { campaignSender } from '../campaign-sender';

/** Who an SMS is sent as (a number or sender id, or a Messaging Service), and through which provider. */
export interface SmsSender {
  provider: SmsProvider;
  from?: string;
  messagingServiceSid?: string;
}

export interface SmsSenderDependencies {
  configurations: ChannelConfigurationRepository;
  outbox: OutboxRepository;
  /** The channel's default (TWILIO_* or the outbox, see HeraldConfig['sms']). */
  sms: HeraldConfig['sms'];
  sender: HeraldConfig['sender'];
}

interface TwilioSettings {
  from?: string;
  messagingServiceSid?: string;
  accountSidEnv: string;
  authTokenEnv: string;
}

/**
 * Resolves the sender of a campaign's SMS at send time, from Herald's database, as emailSenders
 * does for email: the campaign's channel configuration when it references one (its credentials
 * from the variables it names, which the worker may read only when HERALD_SENDER_ENV lists them),
 * else the channel's default: Twilio with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM
 * (or TWILIO_MESSAGING_SERVICE_SID), else the outbox.
 *
 * A reference that cannot serve is a permanent refusal; a credential missing in this worker is
 * retried, so setting it and restarting the worker loses nothing.
 */
export function smsSenders(deps: SmsSenderDependencies) {
  const twilioByCredentials = new Map<string, TwilioSmsProvider>();
  const outboxProvider = new OutboxSmsProvider(deps.outbox);

  function twilio(accountSid: string, authToken: string): TwilioSmsProvider {
    const key = `${accountSid}\u0000${authToken}`;
    let provider = twilioByCredentials.get(key);
    if (!provider) {
      provider = new TwilioSmsProvider(accountSid, authToken, deps.sms.baseUrl, deps.sms.providerTimeoutMs);
      twilioByCredentials.set(key, provider);
    }
    return provider;
  }

  function defaultSender(): SmsSender {
    if (deps.sms.provider === 'outbox') return { provider: outboxProvider };
    const { accountSid, authToken, from, messagingServiceSid } = deps.sms;
    if (!accountSid || !authToken || (!from && !messagingServiceSid)) {
      throw new ProviderUnavailableError(
        'HERALD_SMS_PROVIDER=twilio, but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) are not all set in this worker',
      );
    }
    return { provider: twilio(accountSid, authToken), ...(messagingServiceSid ? { messagingServiceSid } : { from: from! }) };
  }

  const secret = (configurationId: string, name: string): string => configuredSecret(deps.sender, configurationId, name);

  /** The sender of one configuration (the campaign's, or a fallback the failover loop tries). */
  function senderOf(configuration: ChannelConfiguration): SmsSender {
    if (configuration.channel !== smsRules.name)
      throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not sms`);
    if (configuration.provider === 'outbox') return { provider: outboxProvider };
    if (configuration.provider !== 'twilio')
      throw new ProviderRejectedError(`channel configuration ${configuration.id} names the provider ${configuration.provider}, which cannot send SMS`);
    const settings = configuration.settings as unknown as TwilioSettings;
    const provider = twilio(secret(configuration.id, settings.accountSidEnv), secret(configuration.id, settings.authTokenEnv));
    return { provider, ...(settings.messagingServiceSid ? { messagingServiceSid: settings.messagingServiceSid } : { from: settings.from! }) };
  }

  /** `configuration`: the one to send with, when the failover loop chose it; else the campaign's, else the default. */
  return async function senderFor(campaignId: string, configuration?: ChannelConfiguration | null): Promise<SmsSender> {
    return campaignSender(deps.configurations, smsRules.name, campaignId, configuration, senderOf, defaultSender);
  };
}

export type SmsSenderResolver = ReturnType<typeof smsSenders>;
