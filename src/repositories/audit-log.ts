import { ulidFactory } from '../ids/ulid-factory';
import type { HeraldDb } from '../db/database';
import type { AuditAction, AuditResourceType } from '../domain/audit';

const nextId = ulidFactory();

export interface NewAuditEntry {
  actorKeyId: string;
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string;
  /** JSON-serialisable snapshots; never a secret. */
  before?: object;
  after?: object;
}

export interface AuditEntry {
  id: string;
  occurredAt: string;
  actorKeyId: string;
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

export interface AuditLogFilter {
  resourceType?: AuditResourceType;
  /** One id, or several that name the same resource (a profile's internal id and its older `<namespace>/<userId>`). */
  resourceId?: string | string[];
  actorKeyId?: string;
  limit: number;
  /** Entries older than this id (the last id of the previous page). */
  before?: string;
}

const snapshot = (value: object | undefined) => (value === undefined ? null : JSON.stringify(value));

export class AuditLogRepository {
  constructor(private readonly db: HeraldDb) {}

  /** Appends an entry; call it on the transaction that makes the change. */
  async record(entry: NewAuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        id: nextId(),
        occurred_at: new Date().toISOString(),
        actor_key_id: entry.actorKeyId,
        action: entry.action,
        resource_type: entry.resourceType,
        resource_id: entry.resourceId,
        before: snapshot(entry.before),
        after: snapshot(entry.after),
      })
      .execute();
  }

  /**
   * The resource id a profile's entries carry: its internal id (`prf_…`), never the userId, which
   * is often an email address or phone number. Read in the transaction that changed the profile.
   */
  async profileResourceId(namespace: string, userId: string): Promise<string> {
    // Every caller has just written the profile; a missing one (erased meanwhile) is named as erased.
    return (await this.profileIdOf(namespace, userId)) ?? 'erased';
  }

  /** A profile's internal id; undefined when there is no such profile. */
  async profileIdOf(namespace: string, userId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('profiles').select('id').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst();
    return row?.id ?? undefined;
  }

  /** Newest first; one more row than asked tells whether there is a next page. */
  async list(filter: AuditLogFilter): Promise<{ items: AuditEntry[]; hasMore: boolean }> {
    let query = this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit + 1);
    if (filter.resourceType) query = query.where('resource_type', '=', filter.resourceType);
    if (typeof filter.resourceId === 'string') query = query.where('resource_id', '=', filter.resourceId);
    else if (filter.resourceId && filter.resourceId.length > 0) query = query.where('resource_id', 'in', filter.resourceId);
    if (filter.actorKeyId) query = query.where('actor_key_id', '=', filter.actorKeyId);
    if (filter.before) query = query.where('id', '<', filter.before);
    const rows = await query.execute();
    const items = rows.slice(0, filter.limit).map((row) => ({
      id: row.id,
      occurredAt: row.occurred_at,
      actorKeyId: row.actor_key_id,
      action: row.action as AuditAction,
      resourceType: row.resource_type,
      resourceId: row.resource_id,
      ...(row.before !== null && { before: JSON.parse(row.before) as Record<string, unknown> }),
      ...(row.after !== null && { after: JSON.parse(row.after) as Record<string, unknown> }),
    }));
    return { items, hasMore: rows.length > filter.limit };
  }
}
