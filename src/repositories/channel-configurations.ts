import { ulidFactory } from '../ids/ulid-factory';
import type { HeraldDb } from '../db/database';
import { readJson } from '../db/dialect';
import type { Selectable } from 'kysely';
import type { ChannelConfigurationTable } from '../db/schema';
import type { Channel } from '../domain/campaign';
import type { ChannelConfiguration, Provider } from '../domain/channel-configuration';
import { DEFAULT_CIRCUIT_BREAKER, failoverOrder, type CircuitBreakerSettings } from '../domain/provider-failover';

const nextId = ulidFactory();

export interface ChannelConfigurationDraft {
  name: string;
  channel: Channel;
  provider: Provider;
  settings: Record<string, unknown>;
  fallback?: string[];
  /** Null or absent: the defaults. */
  circuitBreaker?: CircuitBreakerSettings | null;
}

export type ChannelConfigurationEdit = Partial<Pick<ChannelConfigurationDraft, 'name' | 'provider' | 'settings' | 'fallback' | 'circuitBreaker'>>;

function toConfiguration(row: Selectable<ChannelConfigurationTable>): ChannelConfiguration {
  return {
    id: row.id,
    name: row.name,
    channel: row.channel,
    provider: row.provider as Provider,
    settings: readJson<Record<string, unknown>>(row.settings),
    fallback: readJson<string[]>(row.fallback),
    circuitBreaker: row.circuit_breaker === null ? { ...DEFAULT_CIRCUIT_BREAKER } : readJson<CircuitBreakerSettings>(row.circuit_breaker),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class ChannelConfigurationRepository {
  constructor(private readonly db: HeraldDb) {}

  async create(draft: ChannelConfigurationDraft): Promise<ChannelConfiguration> {
    const now = new Date().toISOString();
    const id = nextId();
    await this.db
      .insertInto('channel_configurations')
      .values({
        id,
        name: draft.name,
        channel: draft.channel,
        provider: draft.provider,
        settings: JSON.stringify(draft.settings),
        fallback: JSON.stringify(draft.fallback ?? []),
        circuit_breaker: draft.circuitBreaker ? JSON.stringify(draft.circuitBreaker) : null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return (await this.get(id))!;
  }

  async get(id: string): Promise<ChannelConfiguration | undefined> {
    const row = await this.db.selectFrom('channel_configurations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConfiguration(row);
  }

  /** Newest first; the cursor is the last id of the previous page (ids are time-ordered ULIDs). */
  async list(options: { channel?: Channel; limit: number; cursor?: string }): Promise<{ items: ChannelConfiguration[]; nextCursor?: string }> {
    let query = this.db
      .selectFrom('channel_configurations')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.channel) query = query.where('channel', '=', options.channel);
    if (options.cursor) query = query.where('id', '<', options.cursor);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toConfiguration);
    return { items, ...(rows.length > options.limit && { nextCursor: items[items.length - 1]!.id }) };
  }

  async update(id: string, edit: ChannelConfigurationEdit): Promise<ChannelConfiguration | undefined> {
    await this.db
      .updateTable('channel_configurations')
      .set({
        ...(edit.name !== undefined && { name: edit.name }),
        ...(edit.provider !== undefined && { provider: edit.provider }),
        ...(edit.settings !== undefined && { settings: JSON.stringify(edit.settings) }),
        ...(edit.fallback !== undefined && { fallback: JSON.stringify(edit.fallback) }),
        ...(edit.circuitBreaker !== undefined && { circuit_breaker: edit.circuitBreaker ? JSON.stringify(edit.circuitBreaker) : null }),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('channel_configurations').where('id', '=', id).execute();
  }

  /** Ids of the scheduled or live campaigns that send with this configuration. */
  async activeCampaignIds(id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .select('id')
      .where('channel_configuration_id', '=', id)
      .where('status', 'in', ['scheduled', 'live'])
      .orderBy('id')
      .limit(20)
      .execute();
    return rows.map((row) => row.id);
  }

  /** Configurations by id (unknown ids are left out), for reviewing and following fallback lists. */
  async getMany(ids: readonly string[]): Promise<Map<string, ChannelConfiguration>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('channel_configurations')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((row) => [row.id, toConfiguration(row)]));
  }

  /** Ids of the configurations that list `id` as a fallback (at most 20). */
  async fallbackOf(id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('channel_configurations')
      .select(['id', 'fallback'])
      .where('fallback', 'like', `%${JSON.stringify(id)}%`)
      .orderBy('id')
      .execute();
    return rows
      .filter((row) => readJson<string[]>(row.fallback).includes(id))
      .slice(0, 20)
      .map((row) => row.id);
  }

  /**
   * The configuration a campaign sends with, read by the send activity: `none` when the campaign
   * references none (its channel's default), `missing` when the reference points nowhere.
   */
  async forCampaign(campaignId: string): Promise<{ kind: 'none' } | { kind: 'missing'; id: string } | { kind: 'found'; configuration: ChannelConfiguration }> {
    const row = await this.db
      .selectFrom('campaigns as c')
      .leftJoin('channel_configurations as cc', 'cc.id', 'c.channel_configuration_id')
      .select([
        'c.channel_configuration_id as ref',
        'cc.id',
        'cc.name',
        'cc.channel',
        'cc.provider',
        'cc.settings',
        'cc.fallback',
        'cc.circuit_breaker',
        'cc.created_at',
        'cc.updated_at',
      ])
      .where('c.id', '=', campaignId)
      .executeTakeFirst();
    if (!row || row.ref === null) return { kind: 'none' };
    if (row.id === null) return { kind: 'missing', id: row.ref };
    return { kind: 'found', configuration: toConfiguration(row as Selectable<ChannelConfigurationTable>) };
  }

  /**
   * The configurations a campaign's message may go through, in order (src/domain/provider-failover.ts):
   * its own, then its fallbacks. Empty when the campaign references none (the channel's default,
   * which has no fallback); `missing` as forCampaign.
   */
  async chainForCampaign(campaignId: string): Promise<{ kind: 'none' } | { kind: 'missing'; id: string } | { kind: 'found'; chain: ChannelConfiguration[] }> {
    const found = await this.forCampaign(campaignId);
    if (found.kind !== 'found') return found;
    const { configuration } = found;
    if (configuration.fallback.length === 0) return { kind: 'found', chain: [configuration] };
    const fallbacks = await this.getMany(configuration.fallback);
    return { kind: 'found', chain: failoverOrder(configuration, (id) => fallbacks.get(id)) };
  }
}
