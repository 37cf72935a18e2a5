import { monotonicFactory } from 'ulid';
import type { HeraldDb } from '../db/database';
import { readJson } from '../db/dialect';
import type { Selectable } from 'kysely';
import type { ChannelConfigurationTable } from '../db/schema';
import type { Channel } from '../domain/campaign';
import type { ChannelConfiguration, Provider } from '../domain/channel-configuration';

const nextId = monotonicFactory();

export interface ChannelConfigurationDraft {
  name: string;
  channel: Channel;
  provider: Provider;
  settings: Record<string, unknown>;
}

export type ChannelConfigurationEdit = Partial<Pick<ChannelConfigurationDraft, 'name' | 'provider' | 'settings'>>;

function toConfiguration(row: Selectable<ChannelConfigurationTable>): ChannelConfiguration {
  return {
    id: row.id,
    name: row.name,
    channel: row.channel,
    provider: row.provider as Provider,
    settings: readJson<Record<string, unknown>>(row.settings),
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

  /**
   * The configuration a campaign sends with, read by the send activity: `none` when the campaign
   * references none (its channel's default), `missing` when the reference points nowhere.
   */
  async forCampaign(campaignId: string): Promise<{ kind: 'none' } | { kind: 'missing'; id: string } | { kind: 'found'; configuration: ChannelConfiguration }> {
    const row = await this.db
      .selectFrom('campaigns as c')
      .leftJoin('channel_configurations as cc', 'cc.id', 'c.channel_configuration_id')
      .select(['c.channel_configuration_id as ref', 'cc.id', 'cc.name', 'cc.channel', 'cc.provider', 'cc.settings', 'cc.created_at', 'cc.updated_at'])
      .where('c.id', '=', campaignId)
      .executeTakeFirst();
    if (!row || row.ref === null) return { kind: 'none' };
    if (row.id === null) return { kind: 'missing', id: row.ref };
    return { kind: 'found', configuration: toConfiguration(row as Selectable<ChannelConfigurationTable>) };
  }
}
