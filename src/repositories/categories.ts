import type { HeraldDb } from '../db/database';
import type { Selectable } from 'kysely';
import type { CategoryTable } from '../db/schema';
import type { Category, CategoryRules, ChannelSwitches } from '../domain/preferences';

function toCategory(row: Selectable<CategoryTable>): Category {
  return {
    key: row.key,
    name: row.name,
    ...(row.description !== null && { description: row.description }),
    critical: Number(row.critical) === 1,
    defaultChannels: JSON.parse(row.default_channels) as ChannelSwitches,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A new category as created; `critical` and `defaultChannels` default to false and `{}`. */
export interface NewCategory {
  key: string;
  name: string;
  description?: string;
  critical?: boolean;
  defaultChannels?: ChannelSwitches;
}

/** An edit: absent fields stay, a null description clears it. */
export interface CategoryEdit {
  name?: string;
  description?: string | null;
  critical?: boolean;
  defaultChannels?: ChannelSwitches;
}

/** The categories of campaigns (`categories`), keyed by their slug. */
export class CategoryRepository {
  constructor(private readonly db: HeraldDb) {}

  /** By key; a few dozen at most, so all at once. */
  async list(): Promise<Category[]> {
    const rows = await this.db.selectFrom('categories').selectAll().orderBy('key').execute();
    return rows.map(toCategory);
  }

  async get(key: string): Promise<Category | undefined> {
    const row = await this.db.selectFrom('categories').selectAll().where('key', '=', key).executeTakeFirst();
    return row && toCategory(row);
  }

  /** What a send needs of the campaign's category; undefined when there is none by that key. */
  async rules(key: string): Promise<CategoryRules | undefined> {
    const row = await this.db.selectFrom('categories').select(['key', 'critical', 'default_channels']).where('key', '=', key).executeTakeFirst();
    return row && { key: row.key, critical: Number(row.critical) === 1, defaultChannels: JSON.parse(row.default_channels) as ChannelSwitches };
  }

  /** Inserts; a key taken already is a unique violation. */
  async create(category: NewCategory): Promise<Category> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('categories')
      .values({
        key: category.key,
        name: category.name,
        description: category.description ?? null,
        critical: category.critical ? 1 : 0,
        default_channels: JSON.stringify(category.defaultChannels ?? {}),
        created_at: now,
        updated_at: now,
      })
      .execute();
    return (await this.get(category.key))!;
  }

  /** Applies an edit; undefined when there is no such category. */
  async edit(key: string, edit: CategoryEdit): Promise<Category | undefined> {
    const result = await this.db
      .updateTable('categories')
      .set({
        ...(edit.name !== undefined && { name: edit.name }),
        ...(edit.description !== undefined && { description: edit.description }),
        ...(edit.critical !== undefined && { critical: edit.critical ? 1 : 0 }),
        ...(edit.defaultChannels !== undefined && { default_channels: JSON.stringify(edit.defaultChannels) }),
        updated_at: new Date().toISOString(),
      })
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 0 ? undefined : this.get(key);
  }

  /** Whether there was one to delete. */
  async delete(key: string): Promise<boolean> {
    const result = await this.db.deleteFrom('categories').where('key', '=', key).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Up to `limit` ids of campaigns that carry the category (any status). */
  async campaignsCarrying(key: string, limit: number): Promise<string[]> {
    const rows = await this.db.selectFrom('campaigns').select('id').where('category', '=', key).orderBy('id').limit(limit).execute();
    return rows.map((row) => row.id);
  }
}
