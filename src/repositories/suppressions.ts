import { channelRulesOf } from '../channels/registry';
import type { HeraldDb } from '../db/database';
import type { Channel } from '../domain/campaign';
import { isHashedAddress, UNKEYED_HASHER, type AddressHasher } from '../domain/address-hash';
import { normaliseAddress, type SuppressionReason } from '../domain/provider-feedback';

export interface Suppression {
  channel: Channel;
  /** Normalised: email lower-cased, phone E.164. Absent for an erased person's address, kept only as `addressHash`. */
  address?: string;
  /** The keyed hash an erasure left in place of the address (`hmac-sha256:…`); sends to the address are still refused. */
  addressHash?: string;
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
  const stored = isHashedAddress(row.address) ? { addressHash: row.address } : { address: row.address };
  return { channel: row.channel, ...stored, reason: row.reason, ...(row.detail !== null && { detail: row.detail }), createdAt: row.created_at };
}

/** The key of a stored entry, plain or hashed (list cursors carry it). */
export const storedKeyOf = (entry: Suppression) => entry.address ?? entry.addressHash!;

/** The suppression list (`suppressions`): addresses Herald does not send to, per channel. */
export class SuppressionRepository {
  /** `hasher` recognises the hashes erasures left; without one, only the unkeyed form is recognised. */
  constructor(
    private readonly db: HeraldDb,
    private readonly hasher: AddressHasher = UNKEYED_HASHER,
  ) {}

  /**
   * Which of `addresses` (as preparation found them, not normalised) are suppressed on
   * `channel`, as themselves or as the hash an erasure left: one indexed query per 500 stored
   * forms, so a whole batch is checked at once. The set holds the addresses as given.
   */
  async suppressedAddresses(channel: Channel, addresses: string[]): Promise<Set<string>> {
    const byNormalised = new Map<string, string[]>();
    for (const address of addresses) {
      const normalised = normaliseAddress(channelRulesOf(channel), address);
      if (normalised === undefined) continue;
      const given = [...(byNormalised.get(normalised) ?? []), address];
      for (const stored of [normalised, ...this.hasher.candidates(channel, normalised)]) byNormalised.set(stored, given);
    }
    const suppressed = new Set<string>();
    const keys = [...byNormalised.keys()];
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      const rows = await this.db
        .selectFrom('suppressions')
        .select('address')
        .where('channel', '=', channel)
        .where('address', 'in', keys.slice(i, i + LOOKUP_CHUNK))
        .execute();
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
      const rows = entries
        .slice(i, i + INSERT_CHUNK)
        .map((e) => ({ channel: e.channel, address: e.address, reason: e.reason, detail: e.detail ?? null, created_at: now }));
      const result = await this.db
        .insertInto('suppressions')
        .values(rows)
        .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    return added;
  }

  /** Whether there was an entry to remove: the address itself, or the hash an erasure left of it. */
  async remove(channel: Channel, address: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('suppressions')
      .where('channel', '=', channel)
      .where('address', 'in', [address, ...this.hasher.candidates(channel, address)])
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The entry of an address, or of the hash an erasure left of it. */
  async find(channel: Channel, address: string): Promise<Suppression | undefined> {
    const row = await this.db
      .selectFrom('suppressions')
      .selectAll()
      .where('channel', '=', channel)
      .where('address', 'in', [address, ...this.hasher.candidates(channel, address)])
      .orderBy('created_at')
      .executeTakeFirst();
    return row && toSuppression(row);
  }

  /**
   * Erasure: each listed entry of `addresses` (normalised) is replaced by its keyed hash, with its
   * reason and time (not its detail: a provider's text may quote the address), so sending to the
   * address stays refused while the address itself is gone. How many entries were hashed.
   */
  async hashAddresses(channel: Channel, addresses: string[]): Promise<number> {
    let hashed = 0;
    for (let i = 0; i < addresses.length; i += LOOKUP_CHUNK) {
      const rows = await this.db
        .selectFrom('suppressions')
        .selectAll()
        .where('channel', '=', channel)
        .where('address', 'in', addresses.slice(i, i + LOOKUP_CHUNK))
        .execute();
      for (const row of rows) {
        await this.db
          .insertInto('suppressions')
          .values({ channel, address: this.hasher.hash(channel, row.address), reason: row.reason, detail: null, created_at: row.created_at })
          .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
          .execute();
        await this.db.deleteFrom('suppressions').where('channel', '=', channel).where('address', '=', row.address).execute();
        hashed++;
      }
    }
    return hashed;
  }

  /** A page in (channel, address) order, after the key given; `hasMore` when more follow. */
  async list(filter: { channel?: Channel; after?: { channel: Channel; address: string }; limit: number }): Promise<{ items: Suppression[]; hasMore: boolean }> {
    let query = this.db.selectFrom('suppressions').selectAll();
    if (filter.channel) query = query.where('channel', '=', filter.channel);
    const after = filter.after;
    if (after)
      query = query.where((eb) => eb.or([eb('channel', '>', after.channel), eb.and([eb('channel', '=', after.channel), eb('address', '>', after.address)])]));
    const rows = await query
      .orderBy('channel')
      .orderBy('address')
      .limit(filter.limit + 1)
      .execute();
    return { items: rows.slice(0, filter.limit).map(toSuppression), hasMore: rows.length > filter.limit };
  }
}
