import { configuredSecret } from '../configured-secret';
import type { HeraldConfig } from '../../config/env';
import type { ResendSettings } from '../../domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { ProviderRejectedError } from '../provider-errors';
import { emailRules } from './email-rules';
import type { EmailProvider } from './email-provider';
import { OutboxEmailProvider } from './outbox-provider';
import { ResendEmailProvider } from './resend-provider';

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

/**
 * Resolves the sender of a campaign's email at send time, from Herald's database: the campaign's
 * channel configuration when it references one, else the channel's default. The workflow passes
 * only ids, so a configuration never enters a history. Credentials come from the worker's
 * environment, and only from the variables it may hand to a provider (`sender.envNames`).
 *
 * Throws ProviderRejectedError when the reference cannot serve (gone, another channel), and
 * ProviderUnavailableError when a credential is not set in this worker: that is retried, so an
 * operator can set it and restart the worker without losing messages.
 */
export function emailSenders(deps: EmailSenderDependencies) {
  const resendByKey = new Map<string, ResendEmailProvider>();
  const outboxProvider = new OutboxEmailProvider(deps.outbox);

  return async function senderFor(campaignId: string): Promise<EmailSender> {
    const found = await deps.configurations.forCampaign(campaignId);
    if (found.kind === 'none') return { provider: deps.defaultProvider, from: deps.defaultFrom };
    if (found.kind === 'missing') throw new ProviderRejectedError(`channel configuration ${found.id} no longer exists`);
    const { configuration } = found;
    if (configuration.channel !== emailRules.name)
      throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not email`);
    if (configuration.provider === 'outbox') return { provider: outboxProvider, from: deps.defaultFrom };
    if (configuration.provider !== 'resend')
      throw new ProviderRejectedError(`channel configuration ${configuration.id} names the provider ${configuration.provider}, which cannot send email`);

    const settings = configuration.settings as ResendSettings;
    const apiKeyEnv = settings.apiKeyEnv ?? 'RESEND_API_KEY';
    const apiKey = configuredSecret(deps.sender, configuration.id, apiKeyEnv);
    let provider = resendByKey.get(apiKey);
    if (!provider) {
      provider = new ResendEmailProvider(apiKey, deps.email.resendBaseUrl, deps.email.providerTimeoutMs);
      resendByKey.set(apiKey, provider);
    }
    return {
      provider,
      from: settings.from,
      ...(settings.replyTo !== undefined && { replyTo: settings.replyTo }),
      ...(settings.headers !== undefined && { headers: settings.headers }),
    };
  };
}

export type EmailSenderResolver = ReturnType<typeof emailSenders>;
