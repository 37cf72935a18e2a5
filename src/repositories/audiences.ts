import { ulidFactory } from '../ids/ulid-factory';
import type { Kysely, Selectable, SelectQueryBuilder, Transaction } from 'kysely';
import type { HeraldDb } from '../db/database';
import type { AudienceTable, Database } from '../db/schema';
import type { AudienceDefinition } from '../domain/audience-rule';
import { compileAudienceRule } from './audience-rule-sql';

const nextId = ulidFactory();

export interface AudienceRecord {
  id: string;
  name: string;
  namespace: string;
  definition: AudienceDefinition;
  createdAt: string;
  updatedAt: string;
}

export interface AudienceDraft {
  name: string;
  namespace: string;
  definition: AudienceDefinition;
}

function toAudience(row: Selectable<AudienceTable>): AudienceRecord {
  return {
    id: row.id,
    name: row.name,
    namespace: row.namespace,
    definition: JSON.parse(row.definition) as AudienceDefinition,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class AudienceRepository {
  constructor(private readonly db: HeraldDb) {}

  async create(draft: AudienceDraft): Promise<AudienceRecord> {
    const now = new Date().toISOString();
    const row = {
      id: nextId(),
      name: draft.name,
      namespace: draft.namespace,
      type: draft.definition.type,
      definition: JSON.stringify(draft.definition),
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('audiences').values(row).execute();
    return toAudience(row);
  }

  async get(id: string): Promise<AudienceRecord | undefined> {
    const row = await this.db.selectFrom('audiences').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAudience(row);
  }

  /** Newest first; the cursor is the last id of the previous page (ids are time-ordered ULIDs). */
  async list(options: { namespace?: string; limit: number; cursor?: string }): Promise<{ items: AudienceRecord[]; nextCursor?: string }> {
    let query = this.db
      .selectFrom('audiences')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(options.limit + 1);
    if (options.namespace !== undefined) query = query.where('namespace', '=', options.namespace);
    if (options.cursor) query = query.where('id', '<', options.cursor);
    const rows = await query.execute();
    const items = rows.slice(0, options.limit).map(toAudience);
    return { items, ...(rows.length > options.limit && { nextCursor: items[items.length - 1]!.id }) };
  }

  /** Deletes the audience and, by cascade, its members. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('audiences').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * The members of an audience as a kysely select of one column `user_id` (namespace is the
   * audience's), ordered by nothing; usable inside an INSERT ... SELECT in the given
   * transaction/db. Rule: profiles in the namespace matching the rule (compiled to SQL, see
   * audience-rule-sql.ts). Static: audience_members rows, with or without a profile.
   */
  memberUserIds(db: Kysely<Database> | Transaction<Database>, audience: AudienceRecord): SelectQueryBuilder<Database, any, { user_id: string }> {
    if (audience.definition.type === 'static') {
      return db.selectFrom('audience_members').select('audience_members.user_id').where('audience_members.audience_id', '=', audience.id);
    }
    const query = db.selectFrom('profiles').select('profiles.user_id').where('profiles.namespace', '=', audience.namespace);
    return audience.definition.where.length === 0 ? query : query.where(compileAudienceRule(db, audience.definition.where));
  }

  /** How many members the audience has now (a count in the database; a run freezes its own). */
  async estimatedSize(audience: AudienceRecord): Promise<number> {
    const { n } = await this.db
      .selectFrom(this.memberUserIds(this.db, audience).as('members'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Adds user ids to a static audience; answers how many were not members yet. */
  async addMembers(audience: AudienceRecord, userIds: string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const now = new Date().toISOString();
    const result = await this.db
      .insertInto('audience_members')
      .values(userIds.map((userId) => ({ audience_id: audience.id, namespace: audience.namespace, user_id: userId, added_at: now })))
      .onConflict((oc) => oc.columns(['audience_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }

  /** Removes user ids from a static audience; answers how many were members. */
  async removeMembers(audienceId: string, userIds: string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const result = await this.db.deleteFrom('audience_members').where('audience_id', '=', audienceId).where('user_id', 'in', userIds).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Audience runs that still have to read this audience: claimed or scheduled, not started
   * (a started run has frozen its members) and not cancelled.
   */
  async pendingRunIds(audienceId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('executions')
      .select('id')
      .where('kind', '=', 'audience')
      .where('audience_id', '=', audienceId)
      .where('status', '=', 'running')
      .where('run_started_at', 'is', null)
      .where('schedule_cancelled_at', 'is', null)
      .orderBy('id')
      .limit(20)
      .execute();
    return rows.map((row) => row.id);
  }
}
