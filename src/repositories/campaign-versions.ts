import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { Campaign } from '../domain/campaign';
import { CAMPAIGN_VERSION_STATUSES, type CampaignVersion, type CampaignVersionFields, type CampaignVersionStatus } from '../domain/campaign-version';

export { CAMPAIGN_VERSION_STATUSES, type CampaignVersion, type CampaignVersionFields, type CampaignVersionStatus };

/** The lifecycle fields of a campaign, which belong to the campaign and not to any one version. */
const NOT_VERSIONED = ['id', 'status', 'version', 'createdAt', 'updatedAt', 'activatedAt', 'draftVersion'] as const;

/** The versioned fields of a campaign (everything but its id, lifecycle and timestamps). */
export function versionFields(campaign: Campaign): CampaignVersionFields {
  const fields: Record<string, unknown> = { ...campaign };
  for (const key of NOT_VERSIONED) delete fields[key];
  return fields as unknown as CampaignVersionFields;
}

/**
 * A stored snapshot as the API answers it. Snapshots written before migration 0012 hold the
 * create request as given (tags and schedule may be absent, cleared fields null); those before
 * 0031 have no throughput.
 */
export function readSnapshot(json: string): CampaignVersionFields {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined || (NOT_VERSIONED as readonly string[]).includes(key)) continue;
    fields[key] = value;
  }
  fields.tags ??= [];
  fields.schedule ??= {};
  // Snapshots written before migration 0031 were of standard campaigns, as the column's default says.
  fields.throughput ??= 'standard';
  return fields as unknown as CampaignVersionFields;
}

/** `fields` with an edit laid over: a null clears an optional field, as PATCH does on a draft. */
export function applyEdit(fields: CampaignVersionFields, edit: Record<string, unknown>): CampaignVersionFields {
  const next: Record<string, unknown> = { ...fields };
  for (const [key, value] of Object.entries(edit)) {
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as unknown as CampaignVersionFields;
}

/** The campaign as it is at one of its versions: its lifecycle, that version's fields. */
export function atVersion(campaign: Campaign, version: number, fields: CampaignVersionFields): Campaign {
  const lifecycle: Record<string, unknown> = {};
  for (const key of NOT_VERSIONED) if (key in campaign) lifecycle[key] = (campaign as unknown as Record<string, unknown>)[key];
  return { ...fields, ...lifecycle, version } as unknown as Campaign;
}

/**
 * The versions of each campaign (`campaign_versions`). A campaign's row holds its live (or, for a
 * draft campaign, its current) version; a version edited on a live campaign waits here as a
 * `draft` until activation switches the campaign to it through its activation workflow.
 */
export class CampaignVersionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Newest first. */
  async list(campaignId: string): Promise<CampaignVersion[]> {
    const rows = await this.db.selectFrom('campaign_versions').selectAll().where('campaign_id', '=', campaignId).orderBy('version', 'desc').execute();
    return rows.map((row) => ({
      version: row.version,
      status: row.status,
      createdAt: row.created_at,
      ...(row.activated_at && { activatedAt: row.activated_at }),
      ...readSnapshot(row.snapshot),
    }));
  }

  /** One version's fields, if it was recorded. */
  async fields(campaignId: string, version: number): Promise<CampaignVersionFields | undefined> {
    const row = await this.db
      .selectFrom('campaign_versions')
      .select('snapshot')
      .where('campaign_id', '=', campaignId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && readSnapshot(row.snapshot);
  }

  /** The draft version waiting to replace the live one `liveVersion`, if any (the newest). */
  async pendingDraft(campaignId: string, liveVersion: number): Promise<{ version: number; fields: CampaignVersionFields } | undefined> {
    const row = await this.db
      .selectFrom('campaign_versions')
      .select(['version', 'snapshot'])
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'draft')
      .where('version', '>', liveVersion)
      .orderBy('version', 'desc')
      .executeTakeFirst();
    return row && { version: row.version, fields: readSnapshot(row.snapshot) };
  }

  /**
   * Records a new draft version after every version so far; an older draft still waiting is
   * superseded by it. Two concurrent edits collide on the primary key (a unique violation).
   */
  async insertDraft(campaignId: string, fields: CampaignVersionFields, now: string): Promise<number> {
    const latest = await this.db
      .selectFrom('campaign_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('campaign_id', '=', campaignId)
      .executeTakeFirst();
    const version = Number(latest?.v ?? 0) + 1;
    await this.db.updateTable('campaign_versions').set({ status: 'superseded' }).where('campaign_id', '=', campaignId).where('status', '=', 'draft').execute();
    await this.db
      .insertInto('campaign_versions')
      .values({ campaign_id: campaignId, version, snapshot: JSON.stringify(fields), created_at: now, status: 'draft' })
      .execute();
    return version;
  }

  /** Marks `version` live (stamping when, once) and every older version superseded; newer drafts stay. */
  async markLive(campaignId: string, version: number, now: string): Promise<void> {
    await this.db
      .updateTable('campaign_versions')
      .set((eb) => ({ status: 'live', activated_at: eb.fn.coalesce('activated_at', eb.val(now)) }))
      .where('campaign_id', '=', campaignId)
      .where('version', '=', version)
      .execute();
    await this.db
      .updateTable('campaign_versions')
      .set({ status: 'superseded' })
      .where('campaign_id', '=', campaignId)
      .where('version', '<', version)
      .where('status', '!=', 'superseded')
      .execute();
  }

  /** Whether `version` is a recorded draft (not yet live, not superseded). */
  async isDraft(campaignId: string, version: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('campaign_versions')
      .select('status')
      .where('campaign_id', '=', campaignId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row?.status === 'draft';
  }
}
