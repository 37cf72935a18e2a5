import type { CampaignType } from './campaign';
import type { ChannelRules } from './channel-rules';
import type { TrackingTokens } from './tracking';

/**
 * One-click unsubscribe (RFC 8058). A marketing email carries
 * `List-Unsubscribe: <{HERALD_PUBLIC_URL}/u/{token}>` and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; the mailbox provider POSTs to the URL when
 * the person presses its "Unsubscribe" button. The token is a tracking token of kind `unsubscribe`
 * (src/domain/tracking.ts): it names the delivery (execution and position), never the address, and
 * only the keys of HERALD_TRACKING_SECRET can make one.
 */

export const LIST_UNSUBSCRIBE = 'List-Unsubscribe';
export const LIST_UNSUBSCRIBE_POST = 'List-Unsubscribe-Post';
/** RFC 8058 §3.1: the only value, and the body the mailbox provider POSTs. */
export const ONE_CLICK = 'List-Unsubscribe=One-Click';

/** The path the public reaches, under HERALD_PUBLIC_URL. */
export const unsubscribePath = (token: string) => `/u/${token}`;

export function unsubscribeUrl(publicUrl: string, tokens: TrackingTokens, executionId: string, position: number): string {
  return `${publicUrl}${unsubscribePath(tokens.sign({ kind: 'unsubscribe', executionId, position }))}`;
}

/** Only marketing carries the link: transactional mail (receipts, password resets) is sent whatever the consent. */
export function carriesUnsubscribe(type: CampaignType, rules: Pick<ChannelRules, 'carriesUnsubscribeLink'>): boolean {
  return type === 'marketing' && rules.carriesUnsubscribeLink;
}

/** The two RFC 8058 headers of one delivery. */
export function unsubscribeHeaders(url: string): Record<string, string> {
  return { [LIST_UNSUBSCRIBE]: `<${url}>`, [LIST_UNSUBSCRIBE_POST]: ONE_CLICK };
}

/**
 * A channel configuration's headers with the unsubscribe headers on top. A `List-Unsubscribe`
 * the configuration sets (a `<mailto:…>` of the sender's own, say) is kept after Herald's URL, as
 * RFC 2369 allows several; its own `List-Unsubscribe-Post` gives way to Herald's.
 */
export function withUnsubscribeHeaders(configured: Record<string, string> | undefined, unsubscribe: Record<string, string>): Record<string, string> {
  const merged: Record<string, string> = {};
  let alsoConfigured: string | undefined;
  for (const [name, value] of Object.entries(configured ?? {})) {
    const lower = name.toLowerCase();
    if (lower === LIST_UNSUBSCRIBE.toLowerCase()) alsoConfigured = value;
    else if (lower !== LIST_UNSUBSCRIBE_POST.toLowerCase()) merged[name] = value;
  }
  merged[LIST_UNSUBSCRIBE] = alsoConfigured ? `${unsubscribe[LIST_UNSUBSCRIBE]}, ${alsoConfigured}` : unsubscribe[LIST_UNSUBSCRIBE]!;
  merged[LIST_UNSUBSCRIBE_POST] = unsubscribe[LIST_UNSUBSCRIBE_POST]!;
  return merged;
}
