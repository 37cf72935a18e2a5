import type { HeraldDb } from '../db/database';
import { mergeJsonObjects, readJson } from '../db/dialect';
import { inTransaction } from '../db/in-transaction';
import type { ProfileRow } from '../db/schema';
import type { Consents } from '../domain/consent';
import type { PushPlatform, PushTarget } from '../domain/push';

export interface Profile {
  namespace: string;
  userId: string;
  attributes: Record<string, unknown>;
  consents: Consents;
  /** BCP 47 tag in canonical form, or null when unknown. */
  locale: string | null;
  autoCreated: boolean;
  createdAt: string;
  updatedAt: string;
}

function toProfile(row: ProfileRow): Profile {
  return {
    namespace: row.namespace,
    userId: row.user_id,
    attributes: readJson<Record<string, unknown>>(row.attributes),
    consents: readJson<Consents>(row.consents),
    locale: row.locale ?? null,
    autoCreated: row.auto_created === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A profile as an upsert gives it: `locale` undefined keeps the stored one, null clears it. */
export interface ProfileUpsert {
  namespace: string;
  userId: string;
  attributes: Record<string, unknown>;
  consents?: Consents;
  locale?: string | null;
}

/**
 * Rows per `upsertMany` call. A row binds 9 parameters: 1000 rows stay far below SQLite's 32766
 * per statement (and PostgreSQL's 65535).
 */
export const MAX_UPSERT_MANY_ROWS = 1000;

export class ProfileRepository {
  constructor(private readonly db: HeraldDb) {}

  async get(namespace: string, userId: string): Promise<Profile | undefined> {
    const row = await this.row(namespace, userId);
    return row && toProfile(row);
  }

  private row(namespace: string, userId: string): Promise<ProfileRow | undefined> {
    return this.db.selectFrom('profiles').selectAll().where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst();
  }

  /**
   * Replaces attributes and merges consents; `locale` is set when given (null clears it) and kept
   * when undefined. Returns whether the profile is new.
   */
  async upsert(
    namespace: string,
    userId: string,
    attributes: Record<string, unknown>,
    consents: Consents | undefined,
    locale?: string | null,
  ): Promise<{ profile: Profile; created: boolean }> {
    const now = new Date().toISOString();
    return inTransaction(this.db, async (trx) => {
      const existing = await trx
        .selectFrom('profiles')
        .select(['namespace'])
        .where('namespace', '=', namespace)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      // The database merges the consents in the upsert itself, so two concurrent calls both keep theirs.
      const row = await trx
        .insertInto('profiles')
        .values({
          namespace,
          user_id: userId,
          attributes: JSON.stringify(attributes),
          consents: JSON.stringify(consents ?? {}),
          auto_created: 0,
          created_by_execution: null,
          created_at: now,
          updated_at: now,
          locale: locale ?? null,
        })
        .onConflict((oc) =>
          oc.columns(['namespace', 'user_id']).doUpdateSet({
            attributes: JSON.stringify(attributes),
            consents: mergeJsonObjects(trx, 'profiles.consents', 'excluded.consents'),
            updated_at: now,
            ...(locale !== undefined && { locale }),
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return { profile: toProfile(row), created: !existing };
    });
  }

  /**
   * Upserts many profiles, each as `upsert` would (attributes replaced, consents merged, locale set
   * when given and kept when absent), in one transaction: one query for the keys that exist, then
   * one multi-row upsert for the rows that set the locale and one for those that keep it. Rows
   * apply in order: a key given twice ends as two `upsert`s one after the other would leave it,
   * and counts as they would (created once, then updated). At most MAX_UPSERT_MANY_ROWS rows.
   */
  async upsertMany(rows: readonly ProfileUpsert[]): Promise<{ created: number; updated: number }> {
    if (rows.length > MAX_UPSERT_MANY_ROWS) throw new RangeError(`upsertMany takes at most ${MAX_UPSERT_MANY_ROWS} rows, got ${rows.length}`);
    if (rows.length === 0) return { created: 0, updated: 0 };
    // One statement cannot touch a row twice (PostgreSQL refuses it): fold repeated keys first.
    const merged = new Map<string, { row: ProfileUpsert; occurrences: number }>();
    for (const row of rows) {
      const key = JSON.stringify([row.namespace, row.userId]);
      const earlier = merged.get(key);
      if (!earlier) {
        merged.set(key, { row, occurrences: 1 });
        continue;
      }
      const consents = earlier.row.consents || row.consents ? { ...earlier.row.consents, ...row.consents } : undefined;
      const locale = row.locale !== undefined ? row.locale : earlier.row.locale;
      merged.set(key, {
        row: {
          namespace: row.namespace,
          userId: row.userId,
          attributes: row.attributes,
          ...(consents && { consents }),
          ...(locale !== undefined && { locale }),
        },
        occurrences: earlier.occurrences + 1,
      });
    }
    const userIdsByNamespace = new Map<string, string[]>();
    for (const { row } of merged.values()) {
      const userIds = userIdsByNamespace.get(row.namespace);
      if (userIds) userIds.push(row.userId);
      else userIdsByNamespace.set(row.namespace, [row.userId]);
    }
    const now = new Date().toISOString();
    return inTransaction(this.db, async (trx) => {
      const found = await trx
        .selectFrom('profiles')
        .select(['namespace', 'user_id'])
        .where((eb) => eb.or([...userIdsByNamespace].map(([namespace, userIds]) => eb.and([eb('namespace', '=', namespace), eb('user_id', 'in', userIds)]))))
        .execute();
      const existing = new Set(found.map((row) => JSON.stringify([row.namespace, row.user_id])));
      let created = 0;
      let updated = 0;
      for (const [key, { occurrences }] of merged) {
        const isNew = !existing.has(key);
        created += isNew ? 1 : 0;
        updated += isNew ? occurrences - 1 : occurrences;
      }
      // `excluded.locale` of a row without one is null, which would clear the stored one: the
      // rows that keep their locale go in a statement that does not set it.
      const all = [...merged.values()].map(({ row }) => row);
      for (const setsLocale of [true, false]) {
        const group = all.filter((row) => (row.locale !== undefined) === setsLocale);
        if (group.length === 0) continue;
        await trx
          .insertInto('profiles')
          .values(
            group.map((row) => ({
              namespace: row.namespace,
              user_id: row.userId,
              attributes: JSON.stringify(row.attributes),
              consents: JSON.stringify(row.consents ?? {}),
              auto_created: 0,
              created_by_execution: null,
              created_at: now,
              updated_at: now,
              locale: row.locale ?? null,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['namespace', 'user_id']).doUpdateSet((eb) => ({
              attributes: eb.ref('excluded.attributes'),
              consents: mergeJsonObjects(trx, 'profiles.consents', 'excluded.consents'),
              updated_at: now,
              ...(setsLocale && { locale: eb.ref('excluded.locale') }),
            })),
          )
          .execute();
      }
      return { created, updated };
    });
  }

  /**
   * Finds a profile, creating an auto-created one when allowed. Safe to retry: a profile
   * created by an earlier attempt of the same execution still reports `created`.
   */
  async resolve(
    namespace: string,
    userId: string,
    options: { createMissing: boolean; executionId: string; seedAttributes: Record<string, unknown> },
  ): Promise<{ profile?: Profile; created: boolean }> {
    let row = await this.row(namespace, userId);
    if (!row && options.createMissing) {
      const now = new Date().toISOString();
      row =
        (await this.db
          .insertInto('profiles')
          .values({
            namespace,
            user_id: userId,
            attributes: JSON.stringify(options.seedAttributes),
            consents: '{}',
            auto_created: 1,
            created_by_execution: options.executionId,
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.columns(['namespace', 'user_id']).doNothing())
          .returningAll()
          .executeTakeFirst()) ?? (await this.row(namespace, userId)); // another writer created it first
    }
    if (!row) return { created: false };
    return { profile: toProfile(row), created: row.auto_created === 1 && row.created_by_execution === options.executionId };
  }

  /** The profile's push tokens, the most recently registered (or re-registered) first. */
  async pushTokens(namespace: string, userId: string): Promise<StoredPushToken[]> {
    const rows = await this.db
      .selectFrom('push_tokens')
      .selectAll()
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .orderBy('updated_at', 'desc')
      .orderBy('token')
      .execute();
    return rows.map((row) => ({ appID: row.app_id, platform: row.platform, token: row.token, createdAt: row.created_at, updatedAt: row.updated_at }));
  }

  /** Registers a device's token on an existing profile (false when there is none); registering it again refreshes it. */
  async putPushToken(namespace: string, userId: string, target: PushTarget): Promise<boolean> {
    const now = new Date().toISOString();
    return inTransaction(this.db, async (trx) => {
      const existing = await trx
        .selectFrom('profiles')
        .select(['namespace'])
        .where('namespace', '=', namespace)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!existing) return false;
      await trx
        .insertInto('push_tokens')
        .values({ namespace, user_id: userId, app_id: target.appID, platform: target.platform, token: target.token, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['namespace', 'user_id', 'token']).doUpdateSet({ app_id: target.appID, platform: target.platform, updated_at: now }))
        .execute();
      return true;
    });
  }

  /** Forgets a token a provider reported as gone (or a device unregistered); answers how many rows went. */
  async removePushToken(userId: string, token: string, namespace?: string): Promise<number> {
    let query = this.db.deleteFrom('push_tokens').where('user_id', '=', userId).where('token', '=', token);
    if (namespace !== undefined) query = query.where('namespace', '=', namespace);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export interface StoredPushToken extends PushTarget {
  platform: PushPlatform;
  createdAt: string;
  updatedAt: string;
}
