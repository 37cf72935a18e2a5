import type { HeraldDb } from '../db/database';
import type { Channel } from '../domain/campaign';
import { normaliseAddress, type SuppressionReason } from '../domain/provider-feedback';

export interface Suppression {
  channel: Channel;
  /** Normalised: email lower-cased, phone E.164. */
  address: string;
  reason: SuppressionReason;
  detail?: string;
  createdAt: string;
}

export interface NewSuppression {
  channel: Channel;
  /** Already normalised (normaliseAddress). */
  address: string;
  reason: SuppressionReason;
  detail?: string;
}

/** Addresses per `in (…)` list: far below SQLite's and PostgreSQL's parameter limits. */
const LOOKUP_CHUNK = 500;
/** Rows per insert of an import: 5 parameters each. */
const INSERT_CHUNK = 500;

function toSuppression(row: { channel: Channel; address: string; reason: SuppressionReason; detail: string | null; created_at: string }): Suppression {
  return { channel: row.channel, address: row.address, reason: row.reason, ...(row.detail !== null && { detail: row.detail }), createdAt: row.created_at };
}

/** The suppression list (`suppressions`): addresses Herald does not send to, per channel. */
export class SuppressionRepository {
  constructor(private readonly db: HeraldDb) {}

  /**
   * Which of `addresses` (as preparation found them, not normalised) are suppressed on
   * `channel`: one indexed query per 500 distinct addresses, so a whole batch is checked at once.
   * The set holds the addresses as given.
   */
  async suppressedAddresses(channel: Channel, addresses: string[]): Promise<Set<string>> {
    const byNormalised = new Map<string, string[]>();
    for (const address of addresses) {
      const normalised = normaliseAddress(channel, address);
      if (normalised !== undefined) byNormalised.set(normalised, [...(byNormalised.get(normalised) ?? []), address]);
    }
    const suppressed = new Set<string>();
    const keys = [...byNormalised.keys()];
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      const rows = await this.db.selectFrom('suppressions').select('address').where('channel', '=', channel).where('address', 'in', keys.slice(i, i + LOOKUP_CHUNK)).execute();
      for (const row of rows) for (const given of byNormalised.get(row.address) ?? []) suppressed.add(given);
    }
    return suppressed;
  }

  async get(channel: Channel, address: string): Promise<Suppression | undefined> {
    const row = await this.db.selectFrom('suppressions').selectAll().where('channel', '=', channel).where('address', '=', address).executeTakeFirst();
    return row && toSuppression(row);
  }

  /** Adds the address unless it is there already (the first reason stays); whether it was added. */
  async add(entry: NewSuppression): Promise<boolean> {
    const result = await this.db
      .insertInto('suppressions')
      .values({ channel: entry.channel, address: entry.address, reason: entry.reason, detail: entry.detail ?? null, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Adds many at once (an import), skipping those already there; how many were added. */
  async addMany(entries: NewSuppression[]): Promise<number> {
    const now = new Date().toISOString();
    let added = 0;
    for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
      const rows = entries.slice(i, i + INSERT_CHUNK).map((e) => ({ channel: e.channel, address: e.address, reason: e.reason, detail: e.detail ?? null, created_at: now }));
      const result = await this.db
        .insertInto('suppressions')
        .values(rows)
        .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    return added;
  }

  /** Whether there was an entry to remove. */
  async remove(channel: Channel, address: string): Promise<boolean> {
    const result = await this.db.deleteFrom('suppressions').where('channel', '=', channel).where('address', '=', address).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** A page in (channel, address) order, after the key given; `hasMore` when more follow. */
  async list(filter: { channel?: Channel; after?: { channel: Channel; address: string }; limit: number }): Promise<{ items: Suppression[]; hasMore: boolean }> {
    let query = this.db.selectFrom('suppressions').selectAll();
    if (filter.channel) query = query.where('channel', '=', filter.channel);
    const after = filter.after;
    if (after) query = query.where((eb) => eb.or([eb('channel', '>', after.channel), eb.and([eb('channel', '=', after.channel), eb('address', '>', after.address)])]));
    const rows = await query.orderBy('channel').orderBy('address').limit(filter.limit + 1).execute();
    return { items: rows.slice(0, filter.limit).map(toSuppression), hasMore: rows.length > filter.limit };
  }
}
