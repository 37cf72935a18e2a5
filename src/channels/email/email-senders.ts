import { configuredSecret } from '../configured-secret';
import type { HeraldConfig } from '../../config/env';
import type { ChannelConfiguration, ResendSettings, SesSettings, SmtpSettings } from '../../domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { ProviderRejectedError } from '../provider-errors';
import { emailRules } from './email-rules';
import type { EmailProvider } from './email-provider';
import { OutboxEmailProvider } from './outbox-provider';
import { ResendEmailProvider } from './resend-provider';
import { SesEmailProvider } from './ses-provider';
import { SmtpEmailProvider } from './smtp-provider';
import { campaignSender } from '../campaign-sender';

/** Who an email is sent as, and through which provider. */
export interface EmailSender {
  provider: EmailProvider;
  from: string;
  replyTo?: string | string[];
  headers?: Record<string, string>;
}

export interface EmailSenderDependencies {
  configurations: ChannelConfigurationRepository;
  outbox: OutboxRepository;
  /** The channel's default: the provider HERALD_EMAIL_PROVIDER selects, sending as EMAIL_FROM. */
  defaultProvider: EmailProvider;
  defaultFrom: string;
  email: Pick<HeraldConfig['email'], 'resendBaseUrl' | 'providerTimeoutMs'>;
  sender: HeraldConfig['sender'];
}

/** One provider per distinct connection and credentials, made once and kept for the worker's life. */
function providerCache<P>(): (identity: unknown[], create: () => P) => P {
  const providers = new Map<string, P>();
  return (identity, create) => {
    const key = JSON.stringify(identity);
    let provider = providers.get(key);
    if (!provider) {
      provider = create();
      providers.set(key, provider);
    }
    return provider;
  };
}

/**
 * Builds the sender one channel configuration describes: its provider, with credentials read from
 * the worker's environment, and only from the variables it may hand to a provider
 * (`sender.envNames`). The failover loop (activities/send-message.ts) calls it, through senderFor,
 * for each configuration of a campaign's chain.
 *
 * Throws ProviderRejectedError when the configuration cannot send email (another channel, a
 * provider that is not an email one), and ProviderUnavailableError when a credential is not set
 * in this worker: that is retried, so an operator can set it and restart the worker without
 * losing messages.
 */
export function emailConfigurationSenders(deps: Pick<EmailSenderDependencies, 'outbox' | 'defaultFrom' | 'email' | 'sender'>) {
  const resend = providerCache<ResendEmailProvider>();
  const smtp = providerCache<SmtpEmailProvider>();
  const ses = providerCache<SesEmailProvider>();
  const outboxProvider = new OutboxEmailProvider(deps.outbox);
  const timeoutMs = deps.email.providerTimeoutMs;

  /** The provider of one configuration, by its provider name; an unknown name throws. */
  function providerOf(configuration: ChannelConfiguration): EmailProvider {
    const secret = (name: string) => configuredSecret(deps.sender, configuration.id, name);
    switch (configuration.provider) {
      case 'resend': {
        const settings = configuration.settings as ResendSettings;
        const apiKey = secret(settings.apiKeyEnv ?? 'RESEND_API_KEY');
        return resend([apiKey], () => new ResendEmailProvider(apiKey, deps.email.resendBaseUrl, timeoutMs));
      }
      case 'smtp': {
        const { host, port, secure, username, passwordEnv } = configuration.settings as SmtpSettings;
        const auth = username !== undefined && passwordEnv !== undefined ? { user: username, pass: secret(passwordEnv) } : undefined;
        return smtp([host, port, secure, auth], () => new SmtpEmailProvider({ host, port, secure, ...(auth && { auth }) }, timeoutMs));
      }
      case 'ses': {
        const { region, accessKeyIdEnv, secretAccessKeyEnv, configurationSet, endpoint } = configuration.settings as SesSettings;
        const account = {
          region,
          accessKeyId: secret(accessKeyIdEnv),
          secretAccessKey: secret(secretAccessKeyEnv),
          ...(configurationSet !== undefined && { configurationSet }),
          ...(endpoint !== undefined && { endpoint }),
        };
        return ses(Object.values(account), () => new SesEmailProvider(account, timeoutMs));
      }
      default:
        throw new ProviderRejectedError(`channel configuration ${configuration.id} names the provider ${configuration.provider}, which cannot send email`);
    }
  }

  return function senderOf(configuration: ChannelConfiguration): EmailSender {
    if (configuration.channel !== emailRules.name)
      throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not email`);
    if (configuration.provider === 'outbox') return { provider: outboxProvider, from: deps.defaultFrom };
    const provider = providerOf(configuration);
    // Every email provider's settings have these three (src/domain/channel-configuration.ts).
    const { from, replyTo, headers } = configuration.settings as Pick<ResendSettings, 'from' | 'replyTo' | 'headers'>;
    return {
      provider,
      from,
      ...(replyTo !== undefined && { replyTo }),
      ...(headers !== undefined && { headers }),
    };
  };
}

/**
 * Resolves the sender of a campaign's email at send time, from Herald's database: the
 * configuration given (the one the failover loop is trying), else the campaign's channel
 * configuration when it references one, else the channel's default. The workflow passes only ids,
 * so a configuration never enters a history. A reference that is gone is a permanent refusal;
 * the rest is emailConfigurationSenders'.
 */
export function emailSenders(deps: EmailSenderDependencies) {
  const senderOf = emailConfigurationSenders(deps);

  return async function senderFor(campaignId: string, configuration?: ChannelConfiguration | null): Promise<EmailSender> {
    return campaignSender(deps.configurations, emailRules.name, campaignId, configuration, senderOf, () => ({
      provider: deps.defaultProvider,
      from: deps.defaultFrom,
    }));
  };
}

export type EmailSenderResolver = ReturnType<typeof emailSenders>;
