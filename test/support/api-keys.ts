import type { ApiResponse, Herald } from './herald-harness';

export type Requester = <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse<T>>;

/** `herald.request` with `Authorization: Bearer <key>` on every call. */
export const withKey =
  (herald: Herald, key: string): Requester =>
  (method, path, body, headers = {}) =>
    herald.request(method, path, body, { authorization: `Bearer ${key}`, ...headers });

/** The same Herald, calling as `key` (for helpers such as liveCampaign). */
export const heraldAs = (herald: Herald, key: string): Herald => ({ ...herald, request: withKey(herald, key) });

/** Creates an API key with `as` and returns the answer's body, secret included. */
export async function createApiKey(as: Requester, body: { name?: string; scope: 'full' | 'trigger'; campaignIds?: string[] }) {
  const res = await as('POST', '/v1/api-keys', { name: `${body.scope} key`, ...body });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string; scope: string; campaignIds?: string[]; createdAt: string; key: string };
}
