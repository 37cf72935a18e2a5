import { timingSafeEqual } from 'node:crypto';
import { ulidFactory } from '../ids/ulid-factory';
import { DomainError, invalidRequest, notFound, type FieldIssue } from '../domain/errors';
import { environmentKeyId, newApiKeyToken, tokenDigest, API_KEY_PREFIX, type ApiKeyScope, type Principal } from '../domain/api-key';
import type { ApiKey } from '../repositories/api-keys';
import type { ServiceDependencies } from './service-dependencies';
import { withTransaction } from './transaction';

const nextId = ulidFactory();

/** `lastUsedAt` is written at most once per this interval per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeyRequest {
  name: string;
  scope: ApiKeyScope;
  campaignIds?: string[];
}

/** The answer to a creation: the only time the token is ever shown. */
export type CreatedApiKey = Omit<ApiKey, 'lastUsedAt'> & { key: string };

/** What the audit log keeps about a key: no token, no hash. */
const auditView = ({ id, name, scope, campaignIds }: ApiKey) => ({ id, name, scope, ...(campaignIds && { campaignIds }) });

async function checkCampaignIds(deps: ServiceDependencies, request: ApiKeyRequest): Promise<string[] | undefined> {
  if (request.campaignIds === undefined) return undefined;
  if (request.scope !== 'trigger') {
    throw invalidRequest(
      [{ field: 'campaignIds', message: 'only a trigger key can be limited to campaigns' }],
      'campaignIds is only allowed with scope trigger.',
    );
  }
  const campaignIds = [...new Set(request.campaignIds)];
  const unknown: FieldIssue[] = [];
  for (const [i, id] of campaignIds.entries()) {
    if (!(await deps.campaigns.get(id))) unknown.push({ field: `campaignIds.${i}`, message: `campaign ${id} does not exist` });
  }
  if (unknown.length > 0) throw invalidRequest(unknown, 'A trigger key can only be limited to existing campaigns.');
  return campaignIds;
}

/** Creates a key; only its SHA-256 is stored, and the token is returned once. */
export async function createApiKey(deps: ServiceDependencies, request: ApiKeyRequest, actorKeyId: string): Promise<CreatedApiKey> {
  const campaignIds = await checkCampaignIds(deps, request);
  const token = newApiKeyToken();
  const key = await withTransaction(deps, async ({ apiKeys, auditLog }) => {
    const created = await apiKeys.insert({
      id: nextId(),
      name: request.name,
      scope: request.scope,
      ...(campaignIds && { campaignIds }),
      tokenHash: tokenDigest(token).toString('hex'),
      createdByKeyId: actorKeyId,
      createdAt: new Date().toISOString(),
    });
    await auditLog.record({ actorKeyId, action: 'api_key.created', resourceType: 'api_key', resourceId: created.id, after: auditView(created) });
    return created;
  });
  const { lastUsedAt: _unused, ...shown } = key;
  return { ...shown, key: token };
}

export function listApiKeys(deps: ServiceDependencies): Promise<ApiKey[]> {
  return deps.apiKeys.list();
}

/** Revokes a key at once: every API process reads keys from the database on every request. */
export async function revokeApiKey(deps: ServiceDependencies, id: string, actorKeyId: string): Promise<void> {
  if (deps.config.http.apiKeys.some((token) => environmentKeyId(token) === id)) {
    throw new DomainError(
      'conflict',
      'api-key-from-environment',
      'This key comes from HERALD_API_KEYS',
      `Key ${id} is configured in HERALD_API_KEYS; remove it there and restart the API.`,
    );
  }
  await withTransaction(deps, async ({ apiKeys, auditLog }) => {
    const key = await apiKeys.get(id);
    if (!key || !(await apiKeys.revoke(id, new Date().toISOString()))) throw notFound(`API key ${id}`);
    await auditLog.record({ actorKeyId, action: 'api_key.revoked', resourceType: 'api_key', resourceId: id, before: auditView(key) });
  });
}

/**
 * Turns a presented token into the principal it authenticates, or undefined. The token is hashed
 * first, so every comparison is between 32-byte digests and timing reveals nothing about the
 * keys, not even their length: bootstrap keys are compared with timingSafeEqual (all of them,
 * always), and keys created over the API are looked up by digest in the database, on every
 * call, so a revocation holds at once in every process.
 */
export function apiKeyAuthenticator(deps: ServiceDependencies): (token: string) => Promise<Principal | undefined> {
  const bootstrapKeys = deps.config.http.apiKeys.map((token) => ({ digest: tokenDigest(token), id: environmentKeyId(token) }));
  return async (token) => {
    const digest = tokenDigest(token);
    let bootstrap: string | undefined;
    for (const key of bootstrapKeys) if (timingSafeEqual(key.digest, digest)) bootstrap = key.id;
    if (bootstrap) return { keyId: bootstrap, scope: 'full' };
    // Herald issues every managed token with the prefix; anything else cannot be one.
    if (!token.startsWith(API_KEY_PREFIX)) return undefined;
    const key = await deps.apiKeys.findActiveByHash(digest.toString('hex'));
    if (!key || !timingSafeEqual(Buffer.from(key.tokenHash, 'hex'), digest)) return undefined;
    await noteUse(deps, key.id, key.lastUsedAt);
    return { keyId: key.id, scope: key.scope, ...(key.campaignIds && { campaignIds: key.campaignIds }) };
  };
}

async function noteUse(deps: ServiceDependencies, keyId: string, lastUsedAt: string | null): Promise<void> {
  const now = Date.now();
  if (lastUsedAt !== null && now - Date.parse(lastUsedAt) < LAST_USED_RESOLUTION_MS) return;
  try {
    await deps.apiKeys.touchLastUsed(keyId, new Date(now).toISOString(), new Date(now - LAST_USED_RESOLUTION_MS).toISOString());
  } catch (error) {
    // A busy database must not turn a valid key away; the next call stamps it.
    console.warn(`[api] could not record the use of API key ${keyId}:`, (error as Error).message);
  }
}
