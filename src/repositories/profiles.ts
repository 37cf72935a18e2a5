import type { HeraldDb } from '../db/database';
import { mergeJsonObjects, readJson } from '../db/dialect';
import { inTransaction } from '../db/in-transaction';
import type { ProfileRow } from '../db/schema';
import type { Consents } from '../domain/consent';

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
  async upsert(namespace: string, userId: string, attributes: Record<string, unknown>, consents: Consents | undefined, locale?: string | null): Promise<{ profile: Profile; created: boolean }> {
    const now = new Date().toISOString();
    return inTransaction(this.db, async (trx) => {
      const existing = await trx.selectFrom('profiles').select(['namespace']).where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst();
      // The database merges the consents in the upsert itself, so two concurrent calls both keep theirs.
      const row = await trx
        .insertInto('profiles')
        .values({ namespace, user_id: userId, attributes: JSON.stringify(attributes), consents: JSON.stringify(consents ?? {}), auto_created: 0, created_by_execution: null, created_at: now, updated_at: now, locale: locale ?? null })
        .onConflict((oc) =>
          oc
            .columns(['namespace', 'user_id'])
            .doUpdateSet({ attributes: JSON.stringify(attributes), consents: mergeJsonObjects(trx, 'profiles.consents', 'excluded.consents'), updated_at: now, ...(locale !== undefined && { locale }) }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return { profile: toProfile(row), created: !existing };
    });
  }

  /**
   * Finds a profile, creating an auto-created one when allowed. Safe to retry: a profile
   * created by an earlier attempt of the same execution still reports `created`.
   */
  async resolve(namespace: string, userId: string, options: { createMissing: boolean; executionId: string; seedAttributes: Record<string, unknown> }): Promise<{ profile?: Profile; created: boolean }> {
    let row = await this.row(namespace, userId);
    if (!row && options.createMissing) {
      const now = new Date().toISOString();
      row =
        (await this.db
          .insertInto('profiles')
          .values({ namespace, user_id: userId, attributes: JSON.stringify(options.seedAttributes), consents: '{}', auto_created: 1, created_by_execution: options.executionId, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['namespace', 'user_id']).doNothing())
          .returningAll()
          .executeTakeFirst()) ?? (await this.row(namespace, userId)); // another writer created it first
    }
    if (!row) return { created: false };
    return { profile: toProfile(row), created: row.auto_created === 1 && row.created_by_execution === options.executionId };
  }
}
