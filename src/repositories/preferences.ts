import type { HeraldDb } from '../db/database';
import type { ChannelSwitches, Preferences } from '../domain/preferences';

/** A person's stored preferences and when they last changed. */
export interface StoredPreferences extends Preferences {
  updatedAt: string;
}

/** Ids per query: far below SQLite's 32766 bound parameters and PostgreSQL's 65535. */
const CHUNK = 1000;

function toPreferences(row: { channels: string; categories: string }): Preferences {
  return { channels: JSON.parse(row.channels) as ChannelSwitches, categories: JSON.parse(row.categories) as Record<string, ChannelSwitches> };
}

/** The key of a person in the maps `ofPeople` answers. */
export const personKey = (namespace: string, userId: string) => `${namespace}\n${userId}`;

/** Each person's preferences (`profile_preferences`), one row per person who set any. */
export class PreferenceRepository {
  constructor(private readonly db: HeraldDb) {}

  async get(namespace: string, userId: string): Promise<StoredPreferences | undefined> {
    const row = await this.db
      .selectFrom('profile_preferences')
      .select(['channels', 'categories', 'updated_at'])
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { ...toPreferences(row), updatedAt: row.updated_at };
  }

  /** Replaces the person's preferences. */
  async put(namespace: string, userId: string, preferences: Preferences): Promise<StoredPreferences> {
    const now = new Date().toISOString();
    const channels = JSON.stringify(preferences.channels);
    const categories = JSON.stringify(preferences.categories);
    await this.db
      .insertInto('profile_preferences')
      .values({ namespace, user_id: userId, channels, categories, updated_at: now })
      .onConflict((oc) => oc.columns(['namespace', 'user_id']).doUpdateSet({ channels, categories, updated_at: now }))
      .execute();
    return { channels: preferences.channels, categories: preferences.categories, updatedAt: now };
  }

  /**
   * The preferences of many people at once (a preparation's recipients, an audience batch's
   * members), keyed by `personKey`: one query per namespace (and per thousand people). People
   * who set none are not in the map.
   */
  async ofPeople(people: readonly { namespace: string; userId: string }[]): Promise<Map<string, Preferences>> {
    const found = new Map<string, Preferences>();
    const byNamespace = new Map<string, Set<string>>();
    for (const { namespace, userId } of people) {
      const userIds = byNamespace.get(namespace) ?? new Set<string>();
      userIds.add(userId);
      byNamespace.set(namespace, userIds);
    }
    for (const [namespace, userIds] of byNamespace) {
      const ids = [...userIds];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = await this.db
          .selectFrom('profile_preferences')
          .select(['user_id', 'channels', 'categories'])
          .where('namespace', '=', namespace)
          .where('user_id', 'in', ids.slice(i, i + CHUNK))
          .execute();
        for (const row of rows) found.set(personKey(namespace, row.user_id), toPreferences(row));
      }
    }
    return found;
  }
}
