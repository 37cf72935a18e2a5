import { configuredSecret } from '../configured-secret';
import type { HeraldConfig } from '../../config/env';
import type { ChannelConfiguration } from '../../domain/channel-configuration';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { ProviderRejectedError } from '../provider-errors';
import type { ChatProvider } from './chat-provider';
import { chatRules } from './chat-rules';
import { webhookUrl } from './chat-webhook';
import { DiscordWebhookProvider } from './discord-provider';
import { teamsWebhookProvider } from './msteams-provider';
import { OutboxChatProvider } from './outbox-chat-provider';
import { SlackApiProvider } from './slack-api-provider';
import { slackWebhookProvider } from './slack-webhook-provider';
import { campaignSender } from '../campaign-sender';

/** The provider a campaign's chat messages go through, and where a message without its own destination goes. */
export interface ChatSender {
  provider: ChatProvider;
  /** Slack's bot: the channel or user id of a recipient with neither channelData.chat.destination nor a slackUserId. */
  defaultDestination?: string;
}

export interface ChatSenderDependencies {
  configurations: ChannelConfigurationRepository;
  outbox: OutboxRepository;
  sender: HeraldConfig['sender'];
  /** SLACK_BASE_URL and PROVIDER_TIMEOUT_MS. */
  chat: HeraldConfig['chat'];
}

/** A configuration's settings as validated on save (PROVIDER_SETTINGS in src/domain/channel-configuration.ts). */
interface ChatSettings {
  botTokenEnv?: string;
  webhookUrlEnv?: string;
  defaultDestination?: string;
  username?: string;
}

/** The providers a worker builds from credentials, each built once per credential. */
export interface ChatProviders {
  outbox: ChatProvider;
  slackApi(botToken: string): ChatProvider;
  slackWebhook(url: URL): ChatProvider;
  msteams(url: URL): ChatProvider;
  discord(url: URL, username: string | undefined): ChatProvider;
  /** The value of a variable the configuration names (configuredSecret). */
  secret(configurationId: string, name: string): string;
}

export function chatProviders(deps: Pick<ChatSenderDependencies, 'outbox' | 'sender' | 'chat'>): ChatProviders {
  const built = new Map<string, ChatProvider>();
  const once = (key: string, build: () => ChatProvider): ChatProvider => {
    let provider = built.get(key);
    if (!provider) {
      provider = build();
      built.set(key, provider);
    }
    return provider;
  };
  const timeoutMs = deps.chat.providerTimeoutMs;
  return {
    outbox: new OutboxChatProvider(deps.outbox),
    slackApi: (botToken) => once(`slack\u0000${botToken}`, () => new SlackApiProvider(botToken, deps.chat.slackBaseUrl, timeoutMs)),
    slackWebhook: (url) => once(`slack-webhook\u0000${url.href}`, () => slackWebhookProvider(url, timeoutMs)),
    msteams: (url) => once(`msteams\u0000${url.href}`, () => teamsWebhookProvider(url, timeoutMs)),
    discord: (url, username) => once(`discord\u0000${url.href}\u0000${username ?? ''}`, () => new DiscordWebhookProvider(url, timeoutMs, username)),
    secret: (configurationId, name) => configuredSecret(deps.sender, configurationId, name),
  };
}

/**
 * The sender of one chat configuration (the campaign's, or a fallback the failover loop tries): it
 * must be for chat and name a chat provider; its credentials come from the variables it names.
 * A configuration that cannot serve is a permanent refusal; a credential missing in this worker
 * (or a webhook URL that is not https) is retried, so fixing it and restarting loses nothing.
 */
export function chatSenderOf(configuration: ChannelConfiguration, providers: ChatProviders): ChatSender {
  if (configuration.channel !== chatRules.name)
    throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not chat`);
  const settings = configuration.settings as ChatSettings;
  const webhook = (): URL => {
    const name = settings.webhookUrlEnv ?? '';
    return webhookUrl(configuration.id, name, providers.secret(configuration.id, name));
  };
  switch (configuration.provider as string) {
    case 'outbox':
      return { provider: providers.outbox };
    case 'slack':
      if (settings.botTokenEnv !== undefined)
        return {
          provider: providers.slackApi(providers.secret(configuration.id, settings.botTokenEnv)),
          ...(settings.defaultDestination !== undefined && { defaultDestination: settings.defaultDestination }),
        };
      return { provider: providers.slackWebhook(webhook()) };
    case 'msteams':
      return { provider: providers.msteams(webhook()) };
    case 'discord':
      return { provider: providers.discord(webhook(), settings.username) };
    default:
      throw new ProviderRejectedError(
        `channel configuration ${configuration.id} names the provider ${configuration.provider}, which cannot send chat messages`,
      );
  }
}

/**
 * Resolves the sender of a campaign's chat messages at send time, from Herald's database, as
 * smsSenders does for SMS: the configuration given (the failover loop's), else the campaign's
 * channel configuration, else the channel's default, the outbox.
 */
export function chatSenders(deps: ChatSenderDependencies) {
  const providers = chatProviders(deps);
  return async function senderFor(campaignId: string, configuration?: ChannelConfiguration | null): Promise<ChatSender> {
    return campaignSender(
      deps.configurations,
      'chat',
      campaignId,
      configuration,
      (chosen) => chatSenderOf(chosen, providers),
      () => ({ provider: providers.outbox }),
    );
  };
}

export type ChatSenderResolver = ReturnType<typeof chatSenders>;
