import type { HeraldDb } from '../db/database';
import type { ApiKeyTable } from '../db/schema';
import type { ApiKeyScope } from '../domain/api-key';

/** A key as it may be shown: never its token, never its hash. */
export interface ApiKey {
  id: string;
  name: string;
  scope: ApiKeyScope;
  campaignIds?: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewApiKey {
  id: string;
  name: string;
  scope: ApiKeyScope;
  campaignIds?: string[];
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  createdByKeyId: string;
  createdAt: string;
}

/** What authentication needs about a key that is not revoked. */
export interface ActiveApiKey {
  id: string;
  scope: ApiKeyScope;
  campaignIds?: string[];
  tokenHash: string;
  lastUsedAt: string | null;
}

type Row = Pick<ApiKeyTable, 'id' | 'name' | 'scope' | 'campaign_ids' | 'created_at' | 'last_used_at'>;
const SHOWN = ['id', 'name', 'scope', 'campaign_ids', 'created_at', 'last_used_at'] as const;

const campaignIdsOf = (json: string | null) => (json === null ? {} : { campaignIds: JSON.parse(json) as string[] });

function toApiKey(row: Row): ApiKey {
  return { id: row.id, name: row.name, scope: row.scope, ...campaignIdsOf(row.campaign_ids), createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

export class ApiKeyRepository {
  constructor(private readonly db: HeraldDb) {}

  async insert(key: NewApiKey): Promise<ApiKey> {
    const row = {
      id: key.id,
      name: key.name,
      scope: key.scope,
      campaign_ids: key.campaignIds ? JSON.stringify(key.campaignIds) : null,
      token_hash: key.tokenHash,
      created_by_key_id: key.createdByKeyId,
      created_at: key.createdAt,
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return toApiKey(row);
  }

  /** Keys that are not revoked, newest first. */
  async list(): Promise<ApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').select(SHOWN).where('revoked_at', 'is', null).orderBy('id', 'desc').execute();
    return rows.map(toApiKey);
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').select(SHOWN).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return row && toApiKey(row);
  }

  /** Revokes a key that is not revoked yet; returns whether it did. */
  async revoke(id: string, revokedAt: string): Promise<boolean> {
    const result = await this.db.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The key whose token hashes to `tokenHash`, unless revoked. Read on every request: no cache. */
  async findActiveByHash(tokenHash: string): Promise<ActiveApiKey | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'scope', 'campaign_ids', 'token_hash', 'last_used_at'])
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row && { id: row.id, scope: row.scope, ...campaignIdsOf(row.campaign_ids), tokenHash: row.token_hash, lastUsedAt: row.last_used_at };
  }

  /**
   * Stamps `lastUsedAt` unless another request (in any process) did since `staleBefore`, so a
   * busy key costs one write a minute, not one per request.
   */
  async touchLastUsed(id: string, now: string, staleBefore: string): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
      .execute();
  }
}
