import { createHmac, hkdfSync } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';

/**
 * Tokens that name one person (namespace and userId) and act for them alone (docs/preferences.md):
 *
 * - a **subscriber token**, short-lived, that a browser holds to call the inbox routes
 *   (`Authorization: Bearer <token>`), from `POST /v1/inbox/tokens`;
 * - a **preference page token**, in the hosted page's link (`/preferences/{token}`, the
 *   `{{ preferencesUrl }}` of templates), long-lived like the unsubscribe links.
 *
 * Both are JWTs (RFC 7519) signed with HMAC-SHA256 by `jose`, each kind with its own audience so
 * that neither passes for the other. The key is derived (HKDF-SHA256) from each key of
 * HERALD_TRACKING_SECRET, the keys that sign the unsubscribe links: a tracking token and a JWT
 * are never made with the same key. The first key signs, every key verifies (rotation as for
 * tracked links). A token is signed, not encrypted: its holder can read the namespace and userId.
 */

export interface Subscriber {
  namespace: string;
  userId: string;
}

/** `ttlSeconds` of `POST /v1/inbox/tokens`: one hour unless asked, at most a day. */
export const SUBSCRIBER_TOKEN_TTL_SECONDS = { default: 3600, min: 60, max: 86_400 } as const;

/** Anything longer is refused before any work (namespace and userId are at most 255 characters each). */
export const MAX_SUBSCRIBER_TOKEN_CHARS = 4096;

/** A JWT's compact form: three base64url parts. */
export const SUBSCRIBER_TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const ISSUER = 'herald';
const INBOX_AUDIENCE = 'herald:inbox';
const PAGE_AUDIENCE = 'herald:preferences';
/** HKDF's info: domain separation from every other use of HERALD_TRACKING_SECRET. */
const KEY_INFO = 'herald subscriber tokens v1';

interface SubscriberClaims extends JWTPayload {
  /** The namespace; `sub` is the userId. */
  ns?: unknown;
}

export class SubscriberTokens {
  private readonly keys: Uint8Array[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('SubscriberTokens needs at least one secret');
    this.keys = secrets.map((secret) => new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), KEY_INFO, 32)));
  }

  /** A subscriber token for the inbox routes, valid until `expiresAtMs`. */
  inboxToken(subscriber: Subscriber, issuedAtMs: number, expiresAtMs: number): Promise<string> {
    return this.sign(subscriber, INBOX_AUDIENCE, (jwt) => jwt.setIssuedAt(Math.floor(issuedAtMs / 1000)).setExpirationTime(Math.floor(expiresAtMs / 1000)));
  }

  /** The person a genuine, unexpired subscriber token names; undefined for anything else. */
  verifyInboxToken(token: string, nowMs: number): Promise<Subscriber | undefined> {
    return this.verify(token, INBOX_AUDIENCE, nowMs, ['exp']);
  }

  /** The hosted preference page's token: no expiry, like the unsubscribe links (valid while its key is listed). */
  pageToken(subscriber: Subscriber): Promise<string> {
    return this.sign(subscriber, PAGE_AUDIENCE, (jwt) => jwt);
  }

  /** The person a genuine preference page token names; undefined for anything else. */
  verifyPageToken(token: string): Promise<Subscriber | undefined> {
    return this.verify(token, PAGE_AUDIENCE, Date.now(), []);
  }

  /**
   * A stable, keyed name for the person that says nothing about them (rate-limit counters are
   * stored in PostgreSQL on replicas): HMAC of namespace and userId, 128 bits in hex.
   */
  personKey({ namespace, userId }: Subscriber): string {
    return createHmac('sha256', this.keys[0]!).update(`person\n${namespace}\n${userId}`, 'utf8').digest('hex').slice(0, 32);
  }

  private sign(subscriber: Subscriber, audience: string, finish: (jwt: SignJWT) => SignJWT): Promise<string> {
    const jwt = new SignJWT({ ns: subscriber.namespace })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(subscriber.userId);
    return finish(jwt).sign(this.keys[0]!);
  }

  private async verify(token: string, audience: string, nowMs: number, requiredClaims: string[]): Promise<Subscriber | undefined> {
    if (token.length > MAX_SUBSCRIBER_TOKEN_CHARS || !SUBSCRIBER_TOKEN_PATTERN.test(token)) return undefined;
    for (const key of this.keys) {
      try {
        const { payload } = await jwtVerify<SubscriberClaims>(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience,
          currentDate: new Date(nowMs),
          requiredClaims: ['sub', 'ns', ...requiredClaims],
        });
        if (typeof payload.ns !== 'string' || typeof payload.sub !== 'string' || payload.ns === '' || payload.sub === '') return undefined;
        return { namespace: payload.ns, userId: payload.sub };
      } catch {
        // Not this key (or not genuine at all): the next key may have signed it.
      }
    }
    return undefined;
  }
}
