import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Campaign } from './campaign';
import type { ChannelRules, ChannelTracking } from './channel-rules';

/** A campaign's engagement tracking: for email an open pixel, rewritten links, or both; for SMS rewritten links (clicks) only. */
export interface TrackingSettings {
  opens?: boolean;
  clicks?: boolean;
  /** Hosts (or `*.domain` wildcards) links may be tracked to besides those written in the content (src/domain/tracked-link-hosts.ts). */
  allowedLinkHosts?: string[];
}

/**
 * What one tracking token names: the delivery (execution and recipient position) and, for a click,
 * the link's index. `unsubscribe` is the one-click unsubscribe link of a marketing email (RFC 8058,
 * src/domain/unsubscribe.ts): the same keys sign it, under its own payload prefix.
 */
export type TrackingTarget =
  | { kind: 'open'; executionId: string; position: number }
  | { kind: 'click'; executionId: string; position: number; link: number }
  | { kind: 'unsubscribe'; executionId: string; position: number };

/** Links past this many in one message are left as they are (untracked). */
export const MAX_TRACKED_LINKS = 100;

/** At most this many events of one type are recorded per delivery; later hits are answered but not stored. */
export const MAX_EVENTS_PER_DELIVERY = 1000;

/** The User-Agent header is stored cut to this many characters. */
export const MAX_USER_AGENT_CHARS = 256;

/** Tokens are at most this long; anything longer is refused before any work. */
export const MAX_TOKEN_CHARS = 256;

export const TRACKING_TOKEN_PATTERN = /^[A-Za-z0-9_-]{4,200}\.[A-Za-z0-9_-]{43}$/;

/** Domain separation: an HMAC made for anything else never verifies as a tracking token. */
const SIGNATURE_CONTEXT = 'herald-tracking-v1\n';
const EXECUTION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_POSITION = 1_000_000;

export function isTracked(tracking: TrackingSettings | undefined): tracking is TrackingSettings {
  return Boolean(tracking?.opens || tracking?.clicks);
}

function payloadOf(target: TrackingTarget): string {
  switch (target.kind) {
    case 'open':
      return `o:${target.executionId}:${target.position}`;
    case 'click':
      return `c:${target.executionId}:${target.position}:${target.link}`;
    case 'unsubscribe':
      return `u:${target.executionId}:${target.position}`;
  }
}

function parsePayload(payload: string): TrackingTarget | undefined {
  const parts = payload.split(':');
  const [kind, executionId, position, link] = parts;
  if (!executionId || !EXECUTION_ID.test(executionId) || !isIndex(position, MAX_POSITION)) return undefined;
  if (kind === 'o' && parts.length === 3) return { kind: 'open', executionId, position: Number(position) };
  if (kind === 'u' && parts.length === 3) return { kind: 'unsubscribe', executionId, position: Number(position) };
  if (kind === 'c' && parts.length === 4 && isIndex(link, MAX_TRACKED_LINKS - 1))
    return { kind: 'click', executionId, position: Number(position), link: Number(link) };
  return undefined;
}

function isIndex(value: string | undefined, max: number): boolean {
  return value !== undefined && /^(0|[1-9]\d{0,6})$/.test(value) && Number(value) <= max;
}

/**
 * Signs and verifies tracking tokens: `base64url(payload).base64url(HMAC-SHA256(key, context ‖ payload))`,
 * the payload naming the delivery (`o:<executionId>:<position>`, `c:<executionId>:<position>:<link>`
 * or `u:<executionId>:<position>` for an unsubscribe link).
 * The first key signs; every key verifies (HERALD_TRACKING_SECRET lists older keys after the
 * current one while links signed with them may still be clicked). A token never carries a URL:
 * the click endpoint reads the destination from Herald's database, so a token only ever leads
 * to a link Herald stored for that delivery.
 */
export class TrackingTokens {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('TrackingTokens needs at least one secret');
    this.keys = secrets.map((secret) => Buffer.from(secret, 'utf8'));
  }

  sign(target: TrackingTarget): string {
    const payload = payloadOf(target);
    return `${Buffer.from(payload, 'utf8').toString('base64url')}.${this.mac(this.keys[0]!, payload).toString('base64url')}`;
  }

  /** The target of a genuine token; undefined for anything forged, altered or malformed. Constant time in the signature. */
  verify(token: string): TrackingTarget | undefined {
    if (token.length > MAX_TOKEN_CHARS || !TRACKING_TOKEN_PATTERN.test(token)) return undefined;
    const [encodedPayload, encodedSignature] = token.split('.') as [string, string];
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (signature.length !== 32) return undefined;
    const payload = Buffer.from(encodedPayload, 'base64url').toString('utf8');
    // Only the canonical encoding verifies: one delivery, one token per link.
    if (Buffer.from(payload, 'utf8').toString('base64url') !== encodedPayload || signature.toString('base64url') !== encodedSignature) return undefined;
    let genuine = false;
    for (const key of this.keys) genuine = timingSafeEqual(this.mac(key, payload), signature) || genuine;
    return genuine ? parsePayload(payload) : undefined;
  }

  private mac(key: Buffer, payload: string): Buffer {
    return createHmac('sha256', key).update(SIGNATURE_CONTEXT).update(payload, 'utf8').digest();
  }
}

/** The tracking URLs of one delivery, under HERALD_PUBLIC_URL. */
export function trackingUrls(publicUrl: string, tokens: TrackingTokens, executionId: string, position: number) {
  return {
    open: () => `${publicUrl}/t/o/${tokens.sign({ kind: 'open', executionId, position })}`,
    click: (link: number) => `${publicUrl}/t/c/${tokens.sign({ kind: 'click', executionId, position, link })}`,
  };
}

/** The tracking a channel applies to a campaign's messages: what the campaign asks for and the channel can carry; undefined when nothing is tracked. */
export interface AppliedTracking {
  opens: boolean;
  clicks: boolean;
  /** The plain text carries the tracked links (SMS); absent: the HTML does, with the pixel. */
  part?: 'text';
}

export function appliedTracking(channel: ChannelTracking | undefined, settings: TrackingSettings | undefined): AppliedTracking | undefined {
  if (!channel || !isTracked(settings)) return undefined;
  const opens = channel.noOpens === undefined && (settings.opens ?? false);
  const clicks = settings.clicks ?? false;
  if (!opens && !clicks) return undefined;
  return { opens, clicks, ...(channel.part && { part: channel.part }) };
}

/** The activation review's tracking checks, by the channel's rules (email: opens and clicks; SMS: clicks only), and the HMAC key must be set. */
export function reviewTracking(
  campaign: Pick<Campaign, 'channel'> & { tracking?: TrackingSettings },
  hasSecret: boolean,
  rules: Pick<ChannelRules, 'tracking'>,
): { field: string; message: string }[] {
  if (!isTracked(campaign.tracking)) return [];
  const issues: { field: string; message: string }[] = [];
  if (!rules.tracking) {
    issues.push({ field: 'tracking', message: `engagement tracking is available for email and SMS campaigns only, not ${campaign.channel}` });
  } else if (rules.tracking.noOpens !== undefined && campaign.tracking.opens) {
    issues.push({ field: 'tracking.opens', message: rules.tracking.noOpens });
  }
  if (!hasSecret) {
    issues.push({
      field: 'tracking',
      message:
        'HERALD_TRACKING_SECRET is not set: tracked links are signed with it. Set it (at least 32 characters, e.g. `openssl rand -base64 32`) to the same value on every API and worker, or turn tracking off',
    });
  }
  return issues;
}

/** A User-Agent as stored: control characters dropped, cut to MAX_USER_AGENT_CHARS. */
export function storedUserAgent(header: string | undefined): string | null {
  if (!header) return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = header
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, MAX_USER_AGENT_CHARS);
  return cleaned === '' ? null : cleaned;
}
