import type { HeraldConfig } from '../config/env';
import type { Channel } from '../domain/campaign';
import { namedEnvVariables, parseProviderSettings, type ChannelConfiguration, type Provider } from '../domain/channel-configuration';
import { DomainError, invalidRequest, notFound } from '../domain/errors';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';

export interface ChannelConfigurationRequest {
  name: string;
  channel: Channel;
  provider: Provider;
  settings?: Record<string, unknown>;
}

export interface ChannelConfigurationPatch {
  name?: string;
  provider?: Provider;
  settings?: Record<string, unknown>;
}

/** A configuration as the API shows it: settings name variables, and which of those are missing for the worker. */
export type ChannelConfigurationView = ChannelConfiguration & { missingEnv: string[] };

/**
 * Whether a variable a configuration names is set where sends happen. The API never holds
 * provider secrets: `npm start` (or the operator, for split deployments) tells it the names set
 * for the worker in HERALD_SENDER_ENV_PRESENT. Unset, the API checks its own environment.
 */
export function senderEnvPresence(config: HeraldConfig, env: NodeJS.ProcessEnv = process.env): (name: string) => boolean {
  const present = config.sender.presentInWorker;
  if (present !== undefined) return (name) => present.includes(name);
  return (name) => name in config.sender.secrets || Boolean(env[name]?.trim());
}

export function viewOf(config: HeraldConfig, configuration: ChannelConfiguration): ChannelConfigurationView {
  const isPresent = senderEnvPresence(config);
  return { ...configuration, missingEnv: namedEnvVariables(configuration).filter((name) => !isPresent(name)) };
}

function validSettings(channel: Channel, provider: string, settings: unknown): Record<string, unknown> {
  const parsed = parseProviderSettings(channel, provider, settings);
  if ('issues' in parsed) throw invalidRequest(parsed.issues, `The settings do not fit the ${provider} provider of the ${channel} channel; see errors.`);
  return parsed.settings;
}

export function createChannelConfiguration(
  deps: ServiceDependencies,
  request: ChannelConfigurationRequest,
  actorKeyId: string,
): Promise<ChannelConfigurationView> {
  const settings = validSettings(request.channel, request.provider, request.settings);
  return withTransaction(deps, async ({ channelConfigurations, auditLog }) => {
    const created = await channelConfigurations.create({ name: request.name, channel: request.channel, provider: request.provider, settings });
    await auditLog.record({
      actorKeyId,
      action: 'channel_configuration.created',
      resourceType: 'channel_configuration',
      resourceId: created.id,
      after: created,
    });
    return viewOf(deps.config, created);
  });
}

/**
 * Changes the name, the provider or the settings (replaced whole; a new provider needs its
 * settings). The channel never changes. A configuration that scheduled or live campaigns send
 * with must stay complete: every variable it names set for the worker.
 */
export function updateChannelConfiguration(
  deps: ServiceDependencies,
  id: string,
  patch: ChannelConfigurationPatch,
  actorKeyId: string,
): Promise<ChannelConfigurationView> {
  return withTransaction(deps, async ({ channelConfigurations, auditLog }) => {
    const before = await channelConfigurations.get(id);
    if (!before) throw notFound(`Channel configuration ${id}`);
    const provider = patch.provider ?? before.provider;
    if (patch.provider !== undefined && patch.provider !== before.provider && patch.settings === undefined && patch.provider !== 'outbox') {
      throw invalidRequest([{ field: 'settings', message: `give the ${patch.provider} provider its settings` }], 'A new provider needs its settings.');
    }
    const settings = patch.settings !== undefined || patch.provider !== undefined ? validSettings(before.channel, provider, patch.settings ?? {}) : undefined;
    const candidate = { ...before, provider, ...(settings && { settings }) };
    const inUse = await channelConfigurations.activeCampaignIds(id);
    const missing = viewOf(deps.config, candidate).missingEnv;
    if (settings && inUse.length > 0 && missing.length > 0) {
      throw new DomainError(
        'unprocessable',
        'channel-configuration-incomplete',
        'Active campaigns send with this configuration',
        `Campaign(s) ${inUse.join(', ')} send with channel configuration ${id}; the change names variables that are not set for the worker.`,
        missing.map((name) => ({ field: 'settings', message: `${name} is not set for the worker` })),
      );
    }
    const after = (await channelConfigurations.update(id, { ...(patch.name !== undefined && { name: patch.name }), provider, ...(settings && { settings }) }))!;
    await auditLog.record({ actorKeyId, action: 'channel_configuration.updated', resourceType: 'channel_configuration', resourceId: id, before, after });
    return viewOf(deps.config, after);
  });
}

/** Deletes a configuration no scheduled or live campaign sends with (409 otherwise). */
export function deleteChannelConfiguration(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<void> {
  return withTransaction(deps, async ({ channelConfigurations, auditLog }) => {
    const before = await channelConfigurations.get(id);
    if (!before) throw notFound(`Channel configuration ${id}`);
    const inUse = await channelConfigurations.activeCampaignIds(id);
    if (inUse.length > 0) {
      throw new DomainError(
        'conflict',
        'channel-configuration-in-use',
        'The configuration is in use',
        `Scheduled or live campaign(s) ${inUse.join(', ')} send with channel configuration ${id}; stop them first.`,
      );
    }
    await channelConfigurations.delete(id);
    await auditLog.record({ actorKeyId, action: 'channel_configuration.deleted', resourceType: 'channel_configuration', resourceId: id, before });
  });
}
