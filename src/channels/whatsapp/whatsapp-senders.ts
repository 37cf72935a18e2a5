import type { HeraldConfig } from '../../config/env';
import type { ChannelConfiguration } from '../../domain/channel-configuration';
import { E164 } from '../../domain/phone-number';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { configuredSecret } from '../configured-secret';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider-errors';
import { MetaWhatsAppProvider } from './meta-whatsapp-provider';
import { OutboxWhatsAppProvider } from './outbox-whatsapp-provider';
import { TwilioWhatsAppProvider, type TwilioWhatsAppSender } from './twilio-whatsapp-provider';
import type { WhatsAppProvider } from './whatsapp-provider';
import { whatsappRules } from './whatsapp-rules';
import { campaignSender } from '../campaign-sender';

/** Which provider, as which sender, a WhatsApp message goes through (the sender is part of the provider). */
export interface WhatsAppSender {
  provider: WhatsAppProvider;
}

export interface WhatsAppSenderDependencies {
  configurations: ChannelConfigurationRepository;
  outbox: OutboxRepository;
  /** The channel's default (META_WHATSAPP_*, TWILIO_* with TWILIO_WHATSAPP_FROM, or the outbox; see HeraldConfig['whatsapp']). */
  whatsapp: HeraldConfig['whatsapp'];
  sender: HeraldConfig['sender'];
}

/** The providers a worker has made, one per credentials and sender, and how a configuration's credentials are read. */
export interface WhatsAppProviders {
  outbox: WhatsAppProvider;
  twilio(accountSid: string, authToken: string, sender: TwilioWhatsAppSender): WhatsAppProvider;
  meta(phoneNumberId: string, accessToken: string, apiVersion?: string): WhatsAppProvider;
  secret(configurationId: string, name: string): string;
}

interface TwilioSettings {
  from?: string;
  messagingServiceSid?: string;
  accountSidEnv: string;
  authTokenEnv: string;
}

interface MetaSettings {
  phoneNumberId: string;
  accessTokenEnv: string;
  apiVersion?: string;
}

/**
 * The sender a channel configuration describes, for WhatsApp: its provider, its sender, its
 * credentials from the variables it names. What cannot serve WhatsApp is a permanent refusal; a
 * credential missing in this worker is an outage (configuredSecret), retried.
 */
export function configuredWhatsAppSender(configuration: ChannelConfiguration, providers: WhatsAppProviders): WhatsAppSender {
  if (configuration.channel !== whatsappRules.name)
    throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not whatsapp`);
  const secret = (name: string) => providers.secret(configuration.id, name);
  switch (configuration.provider) {
    case 'outbox':
      return { provider: providers.outbox };
    case 'twilio': {
      const settings = configuration.settings as unknown as TwilioSettings;
      if (settings.messagingServiceSid === undefined && !E164.test(settings.from ?? ''))
        throw new ProviderRejectedError(`channel configuration ${configuration.id} sends WhatsApp from ${settings.from}, which is not an E.164 number`);
      const sender = settings.messagingServiceSid !== undefined ? { messagingServiceSid: settings.messagingServiceSid } : { from: settings.from! };
      return { provider: providers.twilio(secret(settings.accountSidEnv), secret(settings.authTokenEnv), sender) };
    }
    case 'meta': {
      const settings = configuration.settings as unknown as MetaSettings;
      return { provider: providers.meta(settings.phoneNumberId, secret(settings.accessTokenEnv), settings.apiVersion) };
    }
    default:
      throw new ProviderRejectedError(`channel configuration ${configuration.id} names the provider ${configuration.provider}, which cannot send WhatsApp`);
  }
}

/**
 * Resolves the sender of a campaign's WhatsApp messages at send time, as smsSenders does for SMS:
 * the configuration given (the failover loop's choice), else the campaign's channel configuration,
 * else the channel's default: Meta's Cloud API with META_WHATSAPP_PHONE_NUMBER_ID and
 * META_WHATSAPP_ACCESS_TOKEN, Twilio with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
 * TWILIO_WHATSAPP_FROM, else the outbox.
 */
export function whatsappSenders(deps: WhatsAppSenderDependencies) {
  const { twilio: twilioDefaults, meta: metaDefaults, providerTimeoutMs } = deps.whatsapp;
  const made = new Map<string, WhatsAppProvider>();
  const once = (key: unknown[], make: () => WhatsAppProvider): WhatsAppProvider => {
    const id = JSON.stringify(key);
    let provider = made.get(id);
    if (!provider) {
      provider = make();
      made.set(id, provider);
    }
    return provider;
  };
  const providers: WhatsAppProviders = {
    outbox: new OutboxWhatsAppProvider(deps.outbox),
    twilio: (accountSid, authToken, sender) =>
      once(
        ['twilio', accountSid, authToken, sender],
        () => new TwilioWhatsAppProvider({ accountSid, authToken, baseUrl: twilioDefaults.baseUrl }, sender, providerTimeoutMs),
      ),
    meta: (phoneNumberId, accessToken, apiVersion = metaDefaults.apiVersion) =>
      once(
        ['meta', phoneNumberId, accessToken, apiVersion],
        () => new MetaWhatsAppProvider(phoneNumberId, accessToken, apiVersion, metaDefaults.baseUrl, providerTimeoutMs),
      ),
    secret: (configurationId, name) => configuredSecret(deps.sender, configurationId, name),
  };

  function defaultSender(): WhatsAppSender {
    switch (deps.whatsapp.provider) {
      case 'outbox':
        return { provider: providers.outbox };
      case 'meta': {
        const { phoneNumberId, accessToken } = metaDefaults;
        if (!phoneNumberId || !accessToken)
          throw new ProviderUnavailableError(
            'HERALD_WHATSAPP_PROVIDER=meta, but META_WHATSAPP_PHONE_NUMBER_ID and META_WHATSAPP_ACCESS_TOKEN are not both set in this worker',
          );
        return { provider: providers.meta(phoneNumberId, accessToken) };
      }
      case 'twilio': {
        const { accountSid, authToken, from } = twilioDefaults;
        if (!accountSid || !authToken || !from)
          throw new ProviderUnavailableError(
            'HERALD_WHATSAPP_PROVIDER=twilio, but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM are not all set in this worker',
          );
        return { provider: providers.twilio(accountSid, authToken, { from }) };
      }
    }
  }

  return async function senderFor(campaignId: string, configuration?: ChannelConfiguration | null): Promise<WhatsAppSender> {
    return campaignSender(deps.configurations, 'whatsapp', campaignId, configuration, (chosen) => configuredWhatsAppSender(chosen, providers), defaultSender);
  };
}

export type WhatsAppSenderResolver = ReturnType<typeof whatsappSenders>;
