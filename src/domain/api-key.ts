import { createHash, randomBytes } from 'node:crypto';

/**
 * What an API key may do. `full` may call every route; `trigger` (Resend's "sending access")
 * may only trigger campaigns, optionally only some, and read the executions it started.
 */
export const API_KEY_SCOPES = ['full', 'trigger'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling: the key that authenticated the request. */
export interface Principal {
  keyId: string;
  scope: ApiKeyScope;
  /** Only for trigger keys limited to some campaigns. */
  campaignIds?: string[];
}

/** The principal of a request without credentials while the API runs open (loopback only). */
export const OPEN_PRINCIPAL: Principal = Object.freeze({ keyId: 'open', scope: 'full' });

/** Every token Herald issues starts with this, so scanners and people can recognise one. */
export const API_KEY_PREFIX = 'hrld_';

/** A new secret: 256 random bits, base64url, behind the prefix (48 characters in all). */
export function newApiKeyToken(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of a presented token. Tokens carry 256 bits of entropy, so a fast unsalted hash is
 * enough to make the stored value useless to a reader of the database, and it gives every
 * token, whatever its length, a 32-byte digest to compare and look up.
 */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The stable, non-secret id of a bootstrap key from HERALD_API_KEYS, as the audit log names it. */
export function environmentKeyId(token: string): string {
  return `env-${tokenDigest(token).toString('hex').slice(0, 12)}`;
}

/** Whether this principal may trigger the campaign; checked before the campaign is looked up. */
export function mayTriggerCampaign(principal: Principal, campaignId: string): boolean {
  return principal.campaignIds === undefined || principal.campaignIds.includes(campaignId);
}
