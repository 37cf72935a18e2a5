// The push channel's settings: its variables (zod) and its part of HeraldConfig. It lives with the channel;
// src/config/env.ts composes it with the other concerns and runs the checks that span them.

import { z } from 'zod';
import type { ProviderVariables } from '../../config/providers';
import { flag, optionalString } from '../../config/zod-helpers';

/** The variables of each push provider's default, all or none (APNS_PRODUCTION is optional). */
const PUSH_DEFAULT_VARIABLES = {
  webpush: ['VAPID_SUBJECT', 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY'],
  fcm: ['FCM_PROJECT_ID', 'FCM_SERVICE_ACCOUNT'],
  apns: ['APNS_TEAM_ID', 'APNS_KEY_ID', 'APNS_BUNDLE_ID', 'APNS_PRIVATE_KEY'],
} as const;

/** The push channel: the providers' API roots, and each platform's default provider. */
export const pushVariables = z.object({
  FCM_BASE_URL: z.url({ error: 'FCM_BASE_URL must be a URL such as https://fcm.googleapis.com' }).optional(),
  APNS_BASE_URL: z.url({ error: 'APNS_BASE_URL must be a URL such as https://api.push.apple.com' }).optional(),
  // The push channel's defaults, per platform (a campaign with no channel configuration): each
  // provider with all of its variables, else the outbox. Never echo a value: the keys are secrets.
  VAPID_SUBJECT: optionalString.refine(
    (value) => value === undefined || /^(mailto:|https:\/\/)/.test(value),
    'VAPID_SUBJECT must be a mailto: or https:// URL, e.g. mailto:ops@example.com',
  ),
  VAPID_PUBLIC_KEY: optionalString.refine(
    (value) => value === undefined || base64UrlBytes(value) === 65,
    'VAPID_PUBLIC_KEY must be the URL-safe base64 public key of a P-256 pair (65 bytes), e.g. from `npx web-push generate-vapid-keys`',
  ),
  VAPID_PRIVATE_KEY: optionalString.refine(
    (value) => value === undefined || base64UrlBytes(value) === 32,
    'VAPID_PRIVATE_KEY must be the URL-safe base64 private key of a P-256 pair (32 bytes), e.g. from `npx web-push generate-vapid-keys`',
  ),
  FCM_PROJECT_ID: optionalString,
  FCM_SERVICE_ACCOUNT: optionalString.refine(
    (value) => value === undefined || isServiceAccountJson(value),
    'FCM_SERVICE_ACCOUNT must be the service-account key file Firebase downloads (JSON with client_email and private_key)',
  ),
  APNS_TEAM_ID: optionalString,
  APNS_KEY_ID: optionalString,
  APNS_BUNDLE_ID: optionalString,
  APNS_PRIVATE_KEY: optionalString.refine(
    (value) => value === undefined || value.includes('-----BEGIN PRIVATE KEY-----'),
    'APNS_PRIVATE_KEY must be the .p8 key Apple gives, in PEM (-----BEGIN PRIVATE KEY-----...)',
  ),
  APNS_PRODUCTION: flag,
  // For the API (npm start sets it): whether a push platform defaults to the outbox, so /v1/outbox is mounted.
  HERALD_PUSH_OUTBOX: z
    .enum(['true', 'false', '1', '0', ''], { error: 'HERALD_PUSH_OUTBOX must be true or false' })
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : value === 'true' || value === '1')),
});

export type PushVariables = z.infer<typeof pushVariables>;

/** Each platform's default provider gets all of its variables or none: half a set is a mistake, not the outbox. */
export function checkPushVariables(env: PushVariables, ctx: z.RefinementCtx): void {
  for (const [provider, names] of Object.entries(PUSH_DEFAULT_VARIABLES)) {
    const missing = names.filter((name) => !env[name]);
    if (missing.length > 0 && missing.length < names.length) {
      ctx.addIssue({
        code: 'custom',
        path: [missing[0]!],
        message: `the ${provider} push default needs ${names.join(', ')} together; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (set ${missing.length === 1 ? 'it' : 'them'}, or unset the others to keep that platform in the outbox)`,
      });
    }
  }
}

export interface PushConfig {
  push: {
    /** FCM's API root (https://fcm.googleapis.com); tests point it at a fake on loopback. */
    fcmBaseUrl?: string;
    /** APNs host for every configuration, production or not (tests: an h2c fake on loopback); unset: Apple's, by `production`. */
    apnsBaseUrl?: string;
    providerTimeoutMs: number;
    /** The web default: Web Push with VAPID_SUBJECT, VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (secret), else the outbox. */
    webpush?: { subject: string; publicKey: string; privateKey: string };
    /** The android default: FCM with FCM_PROJECT_ID and FCM_SERVICE_ACCOUNT (secret JSON), else the outbox. */
    fcm?: { projectId: string; serviceAccountJson: string };
    /** The ios default: APNs with APNS_TEAM_ID, APNS_KEY_ID, APNS_BUNDLE_ID, APNS_PRIVATE_KEY (secret PEM) and APNS_PRODUCTION, else the outbox. */
    apns?: { teamId: string; keyId: string; bundleId: string; privateKey: string; production: boolean };
    /** Whether some platform defaults to the outbox (the API mounts /v1/outbox): HERALD_PUSH_OUTBOX, else computed from the variables above. */
    outboxDefault: boolean;
  };
}

export function pushConfig(e: PushVariables & ProviderVariables): PushConfig {
  const webpush =
    e.VAPID_SUBJECT && e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
      ? { subject: e.VAPID_SUBJECT, publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
      : undefined;
  const fcm = e.FCM_PROJECT_ID && e.FCM_SERVICE_ACCOUNT ? { projectId: e.FCM_PROJECT_ID, serviceAccountJson: e.FCM_SERVICE_ACCOUNT } : undefined;
  const apns =
    e.APNS_TEAM_ID && e.APNS_KEY_ID && e.APNS_BUNDLE_ID && e.APNS_PRIVATE_KEY
      ? { teamId: e.APNS_TEAM_ID, keyId: e.APNS_KEY_ID, bundleId: e.APNS_BUNDLE_ID, privateKey: e.APNS_PRIVATE_KEY, production: e.APNS_PRODUCTION }
      : undefined;
  return {
    push: {
      ...(e.FCM_BASE_URL && { fcmBaseUrl: e.FCM_BASE_URL }),
      ...(e.APNS_BASE_URL && { apnsBaseUrl: e.APNS_BASE_URL }),
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
      ...(webpush && { webpush }),
      ...(fcm && { fcm }),
      ...(apns && { apns }),
      outboxDefault: e.HERALD_PUSH_OUTBOX ?? !(webpush && fcm && apns),
    },
  };
}

/** The length of URL-safe base64 (no padding), or -1 when it is not that. */
function base64UrlBytes(value: string): number {
  return /^[A-Za-z0-9_-]+$/.test(value) ? Buffer.from(value, 'base64url').length : -1;
}

function isServiceAccountJson(value: string): boolean {
  try {
    const parsed = JSON.parse(value) as { client_email?: unknown; private_key?: unknown } | null;
    return typeof parsed?.client_email === 'string' && typeof parsed.private_key === 'string';
  } catch {
    return false;
  }
}
