import type { HeraldConfig } from '../config/env';
import type { Channel } from '../domain/campaign';
import { namedEnvVariables, parseProviderSettings, type ChannelConfiguration, type Provider } from '../domain/channel-configuration';
import { DomainError, invalidRequest, notFound } from '../domain/errors';
import { fallbackProblems, type CircuitBreakerSettings } from '../domain/provider-failover';
import type { ChannelConfigurationRepository } from '../repositories/channel-configurations';
import { ProviderCircuitRepository, type CircuitView } from '../repositories/provider-circuits';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';

export interface ChannelConfigurationRequest {
  name: string;
  channel: Channel;
  provider: Provider;
  settings?: Record<string, unknown>;
  fallback?: string[];
  circuitBreaker?: CircuitBreakerSettings;
}

export interface ChannelConfigurationPatch {
  name?: string;
  provider?: Provider;
  settings?: Record<string, unknown>;
  fallback?: string[];
  /** Null: back to the defaults. */
  circuitBreaker?: CircuitBreakerSettings | null;
}

/** A configuration as the API shows it: settings name variables, and which of those are missing for the worker. */
export type ChannelConfigurationView = ChannelConfiguration & { missingEnv: string[] };

/** …and, where one configuration is shown, its circuit breaker's state, shared by every worker. */
export type ChannelConfigurationDetail = ChannelConfigurationView & CircuitView;

/** A configuration with its circuit's state (GET /v1/channel-configurations/{id} and the listing). */
export async function detailOf(deps: ServiceDependencies, configuration: ChannelConfiguration): Promise<ChannelConfigurationDetail> {
  return { ...viewOf(deps.config, configuration), ...(await new ProviderCircuitRepository(deps.db).view(configuration.id, new Date())) };
}

/** Refuses a fallback list that names an unknown configuration, another channel, itself, a repeat or a cycle (400). */
async function checkFallback(configurations: ChannelConfigurationRepository, self: { id: string; channel: Channel; fallback: string[] }): Promise<void> {
  if (self.fallback.length === 0) return;
  // Every configuration the cycle check may walk: the listed ones, and theirs, a level at a time.
  const known = new Map<string, ChannelConfiguration>();
  let frontier = [...self.fallback];
  while (frontier.length > 0 && known.size < 200) {
    const found = await configurations.getMany(frontier.filter((id) => !known.has(id) && id !== self.id));
    for (const [id, configuration] of found) known.set(id, configuration);
    frontier = [...found.values()].flatMap((configuration) => configuration.fallback).filter((id) => !known.has(id) && id !== self.id);
  }
  const issues = fallbackProblems(self, (id) => known.get(id));
  if (issues.length > 0) throw invalidRequest(issues, 'The fallback list cannot stand; see errors.');
}

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
    const fallback = request.fallback ?? [];
    // A new configuration has no id yet, and nothing lists it: it cannot close a cycle.
    await checkFallback(channelConfigurations, { id: '', channel: request.channel, fallback });
    const created = await channelConfigurations.create({
      name: request.name,
      channel: request.channel,
      provider: request.provider,
      settings,
      fallback,
      ...(request.circuitBreaker && { circuitBreaker: request.circuitBreaker }),
    });
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
    if (patch.fallback !== undefined) await checkFallback(channelConfigurations, { id, channel: before.channel, fallback: patch.fallback });
    const after = (await channelConfigurations.update(id, {
      ...(patch.name !== undefined && { name: patch.name }),
      provider,
      ...(settings && { settings }),
      ...(patch.fallback !== undefined && { fallback: patch.fallback }),
      ...(patch.circuitBreaker !== undefined && { circuitBreaker: patch.circuitBreaker }),
    }))!;
    await auditLog.record({ actorKeyId, action: 'channel_configuration.updated', resourceType: 'channel_configuration', resourceId: id, before, after });
    return viewOf(deps.config, after);
  });
}

/** Deletes a configuration no scheduled or live campaign sends with (409 otherwise). */
export async function deleteChannelConfiguration(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<void> {
  await withTransaction(deps, async ({ channelConfigurations, auditLog }) => {
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
    const listedBy = await channelConfigurations.fallbackOf(id);
    if (listedBy.length > 0) {
      throw new DomainError(
        'conflict',
        'channel-configuration-in-use',
        'The configuration is a fallback',
        `Channel configuration(s) ${listedBy.join(', ')} list ${id} as a fallback; remove it from their fallback first.`,
      );
    }
    await channelConfigurations.delete(id);
    await auditLog.record({ actorKeyId, action: 'channel_configuration.deleted', resourceType: 'channel_configuration', resourceId: id, before });
  });
  // After the transaction: on SQLite its one connection is the transaction's until it ends.
  await new ProviderCircuitRepository(deps.db).forget(id);
}
