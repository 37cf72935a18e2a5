import { configuredSecret } from '../configured-secret';
import type { HeraldConfig } from '../../config/env';
import type { ChannelConfiguration } from '../../domain/channel-configuration';
import type { PushPlatform } from '../../domain/push';
import type { ChannelConfigurationRepository } from '../../repositories/channel-configurations';
import type { OutboxRepository } from '../../repositories/outbox';
import { ProviderRejectedError } from '../provider-errors';
import { pushRules } from './push-rules';
import { APNS_PRODUCTION, APNS_SANDBOX, ApnsPushProvider, type ApnsCredentials } from './apns-provider';
import { FcmPushProvider, parseServiceAccount } from './fcm-provider';
import { OutboxPushProvider } from './outbox-push-provider';
import type { PushProvider } from './push-provider';
import { WebPushProvider } from './webpush-provider';
import { campaignSender } from '../campaign-sender';

/** The provider a campaign's push messages go through, and the platforms it can reach (undefined: any, the outbox). */
export interface PushSender {
  provider: PushProvider;
  platforms?: readonly PushPlatform[];
}

export interface PushSenderDependencies {
  configurations: ChannelConfigurationRepository;
  outbox: OutboxRepository;
  sender: HeraldConfig['sender'];
  /** Provider API roots (FCM_BASE_URL) and PROVIDER_TIMEOUT_MS: a hung call is abandoned (and retried) long before the activity times out. */
  push: HeraldConfig['push'];
}

interface ApnsSettings {
  teamId: string;
  keyId: string;
  bundleId: string;
  privateKeyEnv: string;
  production?: boolean;
}

interface FcmSettings {
  projectId: string;
  serviceAccountEnv: string;
}

interface WebPushSettings {
  vapidSubject: string;
  vapidPublicKeyEnv: string;
  vapidPrivateKeyEnv: string;
}

/**
 * Resolves the provider of a campaign's push messages at send time, from Herald's database, as
 * smsSenders does for SMS: the campaign's channel configuration when it references one (its
 * credentials from the variables it names, which the worker may read only when HERALD_SENDER_ENV
 * lists them), else the channel's default for the target's platform: web Web Push with VAPID_*,
 * android FCM with FCM_PROJECT_ID and FCM_SERVICE_ACCOUNT, ios APNs with APNS_*, each only when
 * all of its variables are set (see HeraldConfig['push']), else the outbox.
 *
 * A reference that cannot serve is a permanent refusal; a credential missing in this worker is
 * retried, so setting it and restarting the worker loses nothing. Each provider reaches its own
 * platform: webpush `web`, fcm `android`, apns `ios`.
 */
export function pushSenders(deps: PushSenderDependencies) {
  const outboxProvider = new OutboxPushProvider(deps.outbox);
  const webPushByKeys = new Map<string, WebPushProvider>();
  const fcmByAccount = new Map<string, FcmPushProvider>();
  const apnsByKey = new Map<string, ApnsPushProvider>();

  const secret = (configurationId: string, name: string): string => configuredSecret(deps.sender, configurationId, name);

  function webPush(subject: string, publicKey: string, privateKey: string): WebPushProvider {
    const key = `${subject}\u0000${publicKey}\u0000${privateKey}`;
    let provider = webPushByKeys.get(key);
    if (!provider) {
      provider = new WebPushProvider({ subject, publicKey, privateKey }, deps.push.providerTimeoutMs);
      webPushByKeys.set(key, provider);
    }
    return provider;
  }

  function fcm(projectId: string, serviceAccountJson: string): FcmPushProvider {
    const key = `${projectId}\u0000${serviceAccountJson}`;
    let provider = fcmByAccount.get(key);
    if (!provider) {
      provider = new FcmPushProvider(parseServiceAccount(serviceAccountJson), projectId, deps.push.fcmBaseUrl, deps.push.providerTimeoutMs);
      fcmByAccount.set(key, provider);
    }
    return provider;
  }

  function apns(credentials: ApnsCredentials, baseUrl: string): ApnsPushProvider {
    const key = JSON.stringify([credentials, baseUrl]);
    let provider = apnsByKey.get(key);
    if (!provider) {
      provider = new ApnsPushProvider(credentials, baseUrl, deps.push.providerTimeoutMs);
      apnsByKey.set(key, provider);
    }
    return provider;
  }

  /** The default for a platform, built as a configuration of that provider would be, from the push defaults' variables. */
  function defaultSender(platform: PushPlatform | undefined): PushSender {
    const { webpush: web, fcm: android, apns: ios } = deps.push;
    if (platform === 'web' && web) return { provider: webPush(web.subject, web.publicKey, web.privateKey), platforms: ['web'] };
    if (platform === 'android' && android) return { provider: fcm(android.projectId, android.serviceAccountJson), platforms: ['android'] };
    if (platform === 'ios' && ios) {
      const credentials = { teamId: ios.teamId, keyId: ios.keyId, bundleId: ios.bundleId, privateKey: ios.privateKey };
      return { provider: apns(credentials, deps.push.apnsBaseUrl ?? (ios.production ? APNS_PRODUCTION : APNS_SANDBOX)), platforms: ['ios'] };
    }
    return { provider: outboxProvider };
  }

  /** The sender of one configuration (the campaign's, or a fallback the failover loop tries). */
  function senderOf(configuration: ChannelConfiguration): PushSender {
    if (configuration.channel !== pushRules.name)
      throw new ProviderRejectedError(`channel configuration ${configuration.id} is for ${configuration.channel}, not push`);
    if (configuration.provider === 'outbox') return { provider: outboxProvider };
    if (configuration.provider === 'webpush') {
      const settings = configuration.settings as unknown as WebPushSettings;
      return {
        provider: webPush(settings.vapidSubject, secret(configuration.id, settings.vapidPublicKeyEnv), secret(configuration.id, settings.vapidPrivateKeyEnv)),
        platforms: ['web'],
      };
    }
    if (configuration.provider === 'fcm') {
      const settings = configuration.settings as unknown as FcmSettings;
      return { provider: fcm(settings.projectId, secret(configuration.id, settings.serviceAccountEnv)), platforms: ['android'] };
    }
    if (configuration.provider === 'apns') {
      const settings = configuration.settings as unknown as ApnsSettings;
      const credentials = {
        teamId: settings.teamId,
        keyId: settings.keyId,
        bundleId: settings.bundleId,
        privateKey: secret(configuration.id, settings.privateKeyEnv),
      };
      return { provider: apns(credentials, deps.push.apnsBaseUrl ?? (settings.production ? APNS_PRODUCTION : APNS_SANDBOX)), platforms: ['ios'] };
    }
    throw new ProviderRejectedError(`the ${configuration.provider} push provider is not available yet (channel configuration ${configuration.id})`);
  }

  /**
   * `platform`: the target's, which picks the default when the campaign references no configuration;
   * `configuration`: the one to send with, when the failover loop chose it.
   */
  return async function senderFor(campaignId: string, platform?: PushPlatform, configuration?: ChannelConfiguration | null): Promise<PushSender> {
    return campaignSender(deps.configurations, pushRules.name, campaignId, configuration, senderOf, () => defaultSender(platform));
  };
}

export type PushSenderResolver = ReturnType<typeof pushSenders>;
