import { ulidFactory } from '../ids/ulid-factory';
import type { HeraldDb } from '../db/database';
import { inTransaction } from '../db/in-transaction';
import type { CampaignRow } from '../db/schema';
import { atVersion, CampaignVersionRepository } from './campaign-versions';
import type {
  Audience,
  Campaign,
  CampaignContent,
  CampaignSnapshot,
  CampaignStatus,
  CampaignType,
  Capping,
  Channel,
  QuietHours,
  Schedule,
} from '../domain/campaign';
import type { CampaignStep } from '../domain/campaign-steps';
import type { Throughput } from '../domain/high-throughput';

const nextId = ulidFactory();

export interface CampaignDraft {
  name: string;
  description?: string;
  tags?: string[];
  type: CampaignType;
  channel: Channel;
  content: CampaignContent;
  audience: Audience;
  schedule?: Schedule;
  /** null (or absent) sends with the channel's default provider. */
  channelConfigurationId?: string | null;
  /** null (or absent): no contextSchema. */
  contextSchema?: Record<string, unknown> | null;
  /** null (or absent): no engagement tracking. */
  tracking?: { opens?: boolean; clicks?: boolean; allowedLinkHosts?: string[] } | null;
  /** null (or absent): no campaign capping. Marketing only. */
  capping?: Capping | null;
  /** null (or absent): no quiet hours. Marketing only. */
  quietHours?: QuietHours | null;
  /** null (or absent): no steps, one send of the channel and content. */
  steps?: CampaignStep[] | null;
  /** null (or absent): no category. */
  category?: string | null;
  /** Absent: standard. */
  throughput?: Throughput;
}

export type CampaignEdit = Partial<CampaignDraft>;

function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    ...(row.description !== null && { description: row.description }),
    tags: JSON.parse(row.tags) as string[],
    type: row.type,
    channel: row.channel,
    content: JSON.parse(row.content) as CampaignContent,
    audience: JSON.parse(row.audience) as Audience,
    schedule: { ...(row.start_at && { startAt: row.start_at }), ...(row.end_at && { endAt: row.end_at }) },
    status: row.status,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.activated_at && { activatedAt: row.activated_at }),
    ...(row.channel_configuration_id && { channelConfigurationId: row.channel_configuration_id }),
    ...(row.context_schema && { contextSchema: JSON.parse(row.context_schema) as Record<string, unknown> }),
    ...(row.tracking && { tracking: JSON.parse(row.tracking) as NonNullable<Campaign['tracking']> }),
    ...(row.capping && { capping: JSON.parse(row.capping) as Capping }),
    ...(row.quiet_hours && { quietHours: JSON.parse(row.quiet_hours) as QuietHours }),
    ...(row.steps && row.steps !== '[]' && { steps: JSON.parse(row.steps) as CampaignStep[] }),
    ...(row.category && { category: row.category }),
    throughput: row.throughput,
  };
}

export function toSnapshot(campaign: Campaign): CampaignSnapshot {
  const { id, version, type, channel, content, audience, schedule, status, capping, quietHours, steps } = campaign;
  // Only when set: the snapshots of campaigns without them stay as they were (the oldest trigger path records them in history).
  return {
    id,
    version,
    type,
    channel,
    content,
    audience,
    schedule,
    status,
    ...(capping && { capping }),
    ...(quietHours && { quietHours }),
    ...(steps && { steps }),
  };
}

/** The columns an edit writes; also what switching to a new version writes (services/campaign-versions.ts). */
export function draftColumns(draft: CampaignEdit) {
  return {
    ...(draft.name !== undefined && { name: draft.name }),
    ...(draft.description !== undefined && { description: draft.description }),
    ...(draft.tags !== undefined && { tags: JSON.stringify(draft.tags) }),
    ...(draft.type !== undefined && { type: draft.type }),
    ...(draft.channel !== undefined && { channel: draft.channel }),
    ...(draft.content !== undefined && { content: JSON.stringify(draft.content) }),
    ...(draft.audience !== undefined && { audience: JSON.stringify(draft.audience) }),
    ...(draft.schedule !== undefined && { start_at: draft.schedule.startAt ?? null, end_at: draft.schedule.endAt ?? null }),
    ...(draft.channelConfigurationId !== undefined && { channel_configuration_id: draft.channelConfigurationId }),
    ...(draft.contextSchema !== undefined && { context_schema: draft.contextSchema === null ? null : JSON.stringify(draft.contextSchema) }),
    ...(draft.tracking !== undefined && { tracking: draft.tracking === null ? null : JSON.stringify(draft.tracking) }),
    ...(draft.capping !== undefined && { capping: draft.capping === null ? null : JSON.stringify(draft.capping) }),
    ...(draft.quietHours !== undefined && { quiet_hours: draft.quietHours === null ? null : JSON.stringify(draft.quietHours) }),
    ...(draft.steps !== undefined && { steps: draft.steps === null || draft.steps.length === 0 ? null : JSON.stringify(draft.steps) }),
    ...(draft.category !== undefined && { category: draft.category }),
    ...(draft.throughput !== undefined && { throughput: draft.throughput }),
  };
}

export interface CampaignPage {
  items: Campaign[];
  nextCursor?: string;
}

export class CampaignRepository {
  constructor(private readonly db: HeraldDb) {}

  async create(draft: CampaignDraft): Promise<Campaign> {
    const now = new Date().toISOString();
    const id = nextId();
    await inTransaction(this.db, async (trx) => {
      await trx
        .insertInto('campaigns')
        .values({
          id,
          name: draft.name,
          description: draft.description ?? null,
          tags: JSON.stringify(draft.tags ?? []),
          type: draft.type,
          channel: draft.channel,
          content: JSON.stringify(draft.content),
          audience: JSON.stringify(draft.audience),
          start_at: draft.schedule?.startAt ?? null,
          end_at: draft.schedule?.endAt ?? null,
          status: 'draft',
          version: 1,
          created_at: now,
          updated_at: now,
          activated_at: null,
          channel_configuration_id: draft.channelConfigurationId ?? null,
          context_schema: draft.contextSchema ? JSON.stringify(draft.contextSchema) : null,
          tracking: draft.tracking ? JSON.stringify(draft.tracking) : null,
          capping: draft.capping ? JSON.stringify(draft.capping) : null,
          quiet_hours: draft.quietHours ? JSON.stringify(draft.quietHours) : null,
          steps: draft.steps && draft.steps.length > 0 ? JSON.stringify(draft.steps) : null,
          category: draft.category ?? null,
          throughput: draft.throughput ?? 'standard',
        })
        .execute();
      await trx
        .insertInto('campaign_versions')
        .values({ campaign_id: id, version: 1, snapshot: JSON.stringify(draft), created_at: now })
        .execute();
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Campaign | undefined> {
    const row = await this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCampaign(row);
  }

  /**
   * The campaign with the fields of one of its versions (its lifecycle as it is now): what an
   * execution that recorded `version` renders. The campaign as it is when that version has no
   * snapshot (executions from before versions were recorded all name the current one).
   */
  async getAtVersion(id: string, version: number): Promise<Campaign | undefined> {
    const campaign = await this.get(id);
    if (!campaign || campaign.version === version) return campaign;
    const fields = await new CampaignVersionRepository(this.db).fields(id, version);
    return fields ? atVersion(campaign, version, fields) : campaign;
  }

  /** Newest first; the cursor is the last id of the previous page (ids are time-ordered ULIDs). */
  async list(options: { status?: CampaignStatus; limit: number; cursor?: string }): Promise<CampaignPage> {
    let query = this.db
      .selectFrom('campaigns')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.status) query = query.where('status', '=', options.status);
    if (options.cursor) query = query.where('id', '<', options.cursor);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toCampaign);
    return { items, ...(rows.length > options.limit && { nextCursor: items[items.length - 1]!.id }) };
  }

  /** Applies an edit to a draft and records the result as a new version. Returns undefined if it is no longer a draft. */
  async editDraft(id: string, edit: CampaignEdit): Promise<Campaign | undefined> {
    const now = new Date().toISOString();
    const updated = await inTransaction(this.db, async (trx) => {
      const result = await trx
        .updateTable('campaigns')
        .set((eb) => ({ ...draftColumns(edit), version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', id)
        .where('status', '=', 'draft')
        .returningAll()
        .executeTakeFirst();
      if (!result) return undefined;
      const campaign = toCampaign(result);
      const { id: _id, status: _s, version, createdAt: _c, updatedAt: _u, activatedAt: _a, ...snapshot } = campaign;
      await trx
        .insertInto('campaign_versions')
        .values({ campaign_id: id, version, snapshot: JSON.stringify(snapshot), created_at: now })
        .execute();
      return campaign;
    });
    return updated;
  }

  /**
   * Records activation. The activation workflow may already have moved the status on, so the
   * status changes only from draft while activatedAt is stamped either way.
   */
  async markActivated(id: string, status: 'scheduled' | 'live'): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .updateTable('campaigns')
      .set((eb) => ({
        status: eb.case().when('status', '=', 'draft').then(status).else(eb.ref('status')).end(),
        activated_at: eb.fn.coalesce('activated_at', eb.val(now)),
        updated_at: now,
      }))
      .where('id', '=', id)
      .execute();
    // The version it was activated at goes live; the drafts edited before it are superseded.
    const current = await this.db.selectFrom('campaigns').select('version').where('id', '=', id).executeTakeFirst();
    if (current) await new CampaignVersionRepository(this.db).markLive(id, current.version, now);
  }

  /**
   * Sets a lifecycle status from the activation workflow or the stop route. `stopped` and
   * `completed` are final: a late transition never revives a campaign.
   */
  async setStatus(id: string, status: CampaignStatus): Promise<void> {
    await this.db
      .updateTable('campaigns')
      .set({ status, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', 'not in', ['stopped', 'completed'])
      .execute();
  }
}
