/**
 * The push channel's target and content shapes. Pure (no Node imports): recipient preparation,
 * which the trigger workflow imports, reads it.
 */

export const PUSH_PLATFORMS = ['ios', 'android', 'web'] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/**
 * One device: AJO's `pushInfo{appID, platform, token}`. For `ios` the token is the APNs device
 * token (hex), for `android` the FCM registration token, and for `web` the Web Push subscription
 * as the browser's `JSON.stringify(subscription)` gives it, stored canonically as
 * `{"endpoint","keys":{"p256dh","auth"}}` (webPushSubscription).
 */
export interface PushTarget {
  appID: string;
  platform: PushPlatform;
  token: string;
}

/** A push variant: title and body are text templates; `data` values and `deepLink` are sent as given. */
export interface PushContent {
  title: string;
  body: string;
  /** String values only, as FCM and APNs custom keys carry them. */
  data?: Record<string, string>;
  /** An https URL or an app scheme (myapp://orders/42). */
  deepLink?: string;
}

/** What the send needs besides title and body; stored with the rendered message (as JSON in its `html` column). */
export interface PushExtras {
  data?: Record<string, string>;
  deepLink?: string;
}

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?\//;

/**
 * Parses a web token (the subscription JSON) and checks it: an https endpoint (plain http only on
 * loopback, for development push services), a P-256 public key and a 16-byte auth secret, both
 * base64url. Answers the subscription or why it is not one.
 */
export function webPushSubscription(token: string): { subscription: WebPushSubscription } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(token);
  } catch {
    return { problem: 'a web token is the Web Push subscription JSON: {"endpoint":"https://…","keys":{"p256dh":"…","auth":"…"}}' };
  }
  const value = parsed as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
  if (typeof value !== 'object' || value === null || typeof value.endpoint !== 'string' || typeof value.keys !== 'object' || value.keys === null) {
    return { problem: 'a web token is the Web Push subscription JSON: {"endpoint":"https://…","keys":{"p256dh":"…","auth":"…"}}' };
  }
  const { endpoint } = value;
  const { p256dh, auth } = value.keys;
  if (endpoint.length > 1024 || !(/^https:\/\/[^\s/]+\//.test(`${endpoint}/`) || LOOPBACK_HTTP.test(`${endpoint}/`)) || /\s/.test(endpoint)) {
    return { problem: 'the subscription endpoint must be an https URL of at most 1024 characters' };
  }
  if (typeof p256dh !== 'string' || !BASE64URL.test(p256dh) || p256dh.length < 86 || p256dh.length > 90)
    return { problem: 'keys.p256dh must be the base64url P-256 public key of the subscription' };
  if (typeof auth !== 'string' || !BASE64URL.test(auth) || auth.length < 22 || auth.length > 24)
    return { problem: 'keys.auth must be the base64url 16-byte auth secret of the subscription' };
  return { subscription: { endpoint, keys: { p256dh, auth } } };
}

/** The stored (and compared) form of a web token: the subscription's three fields, in one order. */
export function canonicalWebToken(subscription: WebPushSubscription): string {
  return JSON.stringify({ endpoint: subscription.endpoint, keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth } });
}

/** Why a token is not one of its platform's, or undefined; a web token must already be canonical-parsable. */
export function pushTokenProblem(platform: PushPlatform, token: string): string | undefined {
  if (platform === 'web') {
    const parsed = webPushSubscription(token);
    return 'problem' in parsed ? parsed.problem : undefined;
  }
  if (platform === 'ios') return /^[0-9a-fA-F]{64,200}$/.test(token) ? undefined : 'an iOS token is the APNs device token in hex (64 to 200 hex digits)';
  return /^[A-Za-z0-9_:\-.]{20,4096}$/.test(token) && token.length <= 2048
    ? undefined
    : 'an Android token is the FCM registration token (20 to 2048 characters of A-Z, a-z, 0-9, _, -, :, .)';
}

/** The token as stored and sent: a web subscription in its canonical form, other tokens unchanged. */
export function normalizePushToken(platform: PushPlatform, token: string): string {
  if (platform !== 'web') return token;
  const parsed = webPushSubscription(token);
  return 'subscription' in parsed ? canonicalWebToken(parsed.subscription) : token;
}

const APP_SCHEME_LINK = /^[a-z][a-z0-9+.-]{1,31}:\/\/[^\s]*$/i;

/** Why a deep link is not an https URL or an app scheme link (myapp://…), or undefined. */
export function deepLinkProblem(link: string): string | undefined {
  if (link.length > 2048 || /[\s\u0000-\u001F\u007F]/.test(link)) return 'a deep link is one URL without spaces, at most 2048 characters';
  if (!APP_SCHEME_LINK.test(link)) return 'a deep link is an https URL or an app scheme link such as myapp://orders/42';
  const scheme = link.slice(0, link.indexOf(':')).toLowerCase();
  if (['http', 'javascript', 'data', 'file', 'vbscript'].includes(scheme))
    return 'a deep link is an https URL or an app scheme link such as myapp://orders/42 (not http, javascript, data or file)';
  return undefined;
}

/** The delivery address of a push message: the target as JSON (appID, platform, token). */
export function pushAddress(target: PushTarget): string {
  return JSON.stringify({ appID: target.appID, platform: target.platform, token: target.token });
}

export function parsePushAddress(address: string): PushTarget | undefined {
  try {
    const value = JSON.parse(address) as Partial<PushTarget>;
    if (typeof value.appID === 'string' && typeof value.token === 'string' && (PUSH_PLATFORMS as readonly string[]).includes(value.platform ?? ''))
      return value as PushTarget;
  } catch {
    // not a push address
  }
  return undefined;
}
