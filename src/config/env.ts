import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { POSTGRES_URL } from '../db/dialect';
import type { DatabaseTarget } from '../db/database';
import { DEFAULT_SENDER_ENV_NAMES, envNameProblem } from '../domain/channel-configuration';

const port = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a TCP port number, e.g. ${name}=${fallback}` })
    .int(`${name} must be a whole number, e.g. ${name}=${fallback}`)
    .min(1, `${name} must be between 1 and 65535`)
    .max(65535, `${name} must be between 1 and 65535`)
    .default(fallback);

const flag = z
  .enum(['true', 'false', '1', '0', ''], { error: 'use true or false' })
  .optional()
  .transform((value) => value === 'true' || value === '1');

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const wholeNumber = (name: string, example: number, min: number, max: number, unit: string) =>
  z.coerce
    .number({ error: `${name} must be a number of ${unit}, e.g. ${name}=${example}` })
    .int(`${name} must be a whole number of ${unit}, e.g. ${name}=${example}`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(example);

const renderProcesses = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number of render processes, e.g. ${name}=2` })
    .int(`${name} must be a whole number of render processes, e.g. ${name}=2`)
    .min(1, `${name} must be at least 1`)
    .max(64, `${name} must be at most 64`)
    .optional();

/** `id:base64key[,id:base64key...]`: AES-256 keys for the payload codec, the first one encrypts. */
const PAYLOAD_KEY_ENTRY = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/]{43}=)$/;
const payloadKeys = optionalString.superRefine((value, ctx) => {
  if (value === undefined) return;
  const entries = value.split(',').map((entry) => entry.trim());
  const ids = new Set<string>();
  for (const entry of entries) {
    const match = PAYLOAD_KEY_ENTRY.exec(entry);
    if (!match || Buffer.from(match[2]!, 'base64').length !== 32) {
      // Never echo the entry: it is a secret.
      ctx.addIssue({ code: 'custom', message: 'HERALD_PAYLOAD_KEYS must look like key-2026:<32 random bytes in base64>[,older-id:<base64>...]; create a key with `openssl rand -base64 32`' });
      return;
    }
    if (ids.has(match[1]!)) ctx.addIssue({ code: 'custom', message: `HERALD_PAYLOAD_KEYS names key id "${match[1]}" twice; every key needs its own id` });
    ids.add(match[1]!);
  }
});

/** A comma list of environment variable names (never values), each one a provider credential may live in. */
const envNameList = (name: string) =>
  z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      for (const entry of (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)) {
        const problem = envNameProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: `${name} lists "${entry.slice(0, 130)}": ${problem}` });
      }
    })
    .transform((value) => (value === undefined ? undefined : [...new Set(value.split(',').map((item) => item.trim()).filter(Boolean))]));

/** The variables of each push provider's default, all or none (APNS_PRODUCTION is optional). */
const PUSH_DEFAULT_VARIABLES = {
  webpush: ['VAPID_SUBJECT', 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY'],
  fcm: ['FCM_PROJECT_ID', 'FCM_SERVICE_ACCOUNT'],
  apns: ['APNS_TEAM_ID', 'APNS_KEY_ID', 'APNS_BUNDLE_ID', 'APNS_PRIVATE_KEY'],
} as const;

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

/** postgres:// or postgresql:// with a host; parsed, not just matched. */
function isPostgresUrl(value: string): boolean {
  if (!POSTGRES_URL.test(value)) return false;
  try {
    return new URL(value).hostname !== '' || /[?&]host=/.test(value);
  } catch {
    return false;
  }
}

const envSchema = z
  .object({
    PORT: port('PORT', 3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    HERALD_DATA_DIR: z.string().min(1).default('./.data'),
    HERALD_DB_PATH: optionalString,
    // Never echo the value in a message: a connection string can hold a password.
    DATABASE_URL: optionalString.refine((value) => value === undefined || isPostgresUrl(value), {
      message: 'DATABASE_URL must be a PostgreSQL connection URL such as postgres://user:password@host:5432/herald (postgres:// or postgresql://); leave it unset for the embedded SQLite database',
    }),
    HERALD_API_KEYS: optionalString,
    HERALD_RATE_LIMIT: z.coerce
      .number({ error: 'HERALD_RATE_LIMIT must be a number of calls per second, e.g. 500' })
      .int()
      .min(1, 'HERALD_RATE_LIMIT must be at least 1')
      .default(500),
    HERALD_RATE_LIMITS: optionalString.refine(
      (value) => value === undefined || value.split(',').every((pair) => /^[^=]+=\d+$/.test(pair.trim())),
      'HERALD_RATE_LIMITS must look like key-one=1000,key-two=50 (calls per second per API key)',
    ),
    HERALD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: 'HERALD_LOG_LEVEL must be one of debug, info, warn, error' }).default('info'),

    TEMPORAL_ADDRESS: optionalString,
    TEMPORAL_PORT: port('TEMPORAL_PORT', 7233),
    TEMPORAL_UI_PORT: port('TEMPORAL_UI_PORT', 8233),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('herald'),
    TEMPORAL_TLS: flag,
    TEMPORAL_TLS_CERT_PATH: optionalString,
    TEMPORAL_TLS_KEY_PATH: optionalString,
    TEMPORAL_TLS_CA_PATH: optionalString,
    TEMPORAL_API_KEY: optionalString,
    TEMPORAL_CLI_PATH: optionalString,

    RESEND_API_KEY: optionalString,
    RESEND_BASE_URL: z.url({ error: 'RESEND_BASE_URL must be a URL such as https://api.resend.com' }).optional(),
    EMAIL_FROM: z.string().min(3).default('Herald <herald@localhost.localdomain>'),
    PROVIDER_TIMEOUT_MS: z.coerce
      .number({ error: 'PROVIDER_TIMEOUT_MS must be a number of milliseconds, e.g. 10000' })
      .int()
      .min(100, 'PROVIDER_TIMEOUT_MS must be at least 100')
      .max(25_000, 'PROVIDER_TIMEOUT_MS must stay below the 30 s send activity timeout')
      .default(10_000),

    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM: optionalString.refine((value) => value === undefined || /^(\+[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/.test(value), 'TWILIO_FROM must be an E.164 number (+14155550100) or an alphanumeric sender id of up to 11 characters'),
    TWILIO_MESSAGING_SERVICE_SID: optionalString.refine((value) => value === undefined || /^MG[0-9a-fA-F]{32}$/.test(value), 'TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits'),
    TWILIO_BASE_URL: z.url({ error: 'TWILIO_BASE_URL must be a URL such as https://api.twilio.com' }).optional(),
    HERALD_SMS_PROVIDER: z.enum(['twilio', 'outbox'], { error: 'HERALD_SMS_PROVIDER must be twilio or outbox' }).optional(),
    FCM_BASE_URL: z.url({ error: 'FCM_BASE_URL must be a URL such as https://fcm.googleapis.com' }).optional(),
    APNS_BASE_URL: z.url({ error: 'APNS_BASE_URL must be a URL such as https://api.push.apple.com' }).optional(),
    // The push channel's defaults, per platform (a campaign with no channel configuration): each
    // provider with all of its variables, else the outbox. Never echo a value: the keys are secrets.
    VAPID_SUBJECT: optionalString.refine((value) => value === undefined || /^(mailto:|https:\/\/)/.test(value), 'VAPID_SUBJECT must be a mailto: or https:// URL, e.g. mailto:ops@example.com'),
    VAPID_PUBLIC_KEY: optionalString.refine((value) => value === undefined || base64UrlBytes(value) === 65, 'VAPID_PUBLIC_KEY must be the URL-safe base64 public key of a P-256 pair (65 bytes), e.g. from `npx web-push generate-vapid-keys`'),
    VAPID_PRIVATE_KEY: optionalString.refine((value) => value === undefined || base64UrlBytes(value) === 32, 'VAPID_PRIVATE_KEY must be the URL-safe base64 private key of a P-256 pair (32 bytes), e.g. from `npx web-push generate-vapid-keys`'),
    FCM_PROJECT_ID: optionalString,
    FCM_SERVICE_ACCOUNT: optionalString.refine((value) => value === undefined || isServiceAccountJson(value), 'FCM_SERVICE_ACCOUNT must be the service-account key file Firebase downloads (JSON with client_email and private_key)'),
    APNS_TEAM_ID: optionalString,
    APNS_KEY_ID: optionalString,
    APNS_BUNDLE_ID: optionalString,
    APNS_PRIVATE_KEY: optionalString.refine((value) => value === undefined || value.includes('-----BEGIN PRIVATE KEY-----'), 'APNS_PRIVATE_KEY must be the .p8 key Apple gives, in PEM (-----BEGIN PRIVATE KEY-----...)'),
    APNS_PRODUCTION: flag,
    // For the API (npm start sets it): whether a push platform defaults to the outbox, so /v1/outbox is mounted.
    HERALD_PUSH_OUTBOX: z
      .enum(['true', 'false', '1', '0', ''], { error: 'HERALD_PUSH_OUTBOX must be true or false' })
      .optional()
      .transform((value) => (value === undefined || value === '' ? undefined : value === 'true' || value === '1')),

    HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS: z.coerce
      .number({ error: 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be a number of seconds, e.g. 60' })
      .int('HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be a whole number of seconds, e.g. 60')
      .min(1, 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be at least 1')
      .max(86_400, 'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS must be at most 86400 (a day)')
      .default(60),
    // An execution younger than this may still have its workflow start in flight (the API waits
    // up to 5 s for Temporal), so the floor keeps a slow start from being swept as an orphan.
    HERALD_ORPHAN_GRACE_SECONDS: z.coerce
      .number({ error: 'HERALD_ORPHAN_GRACE_SECONDS must be a number of seconds, e.g. 120' })
      .int('HERALD_ORPHAN_GRACE_SECONDS must be a whole number of seconds, e.g. 120')
      .min(10, 'HERALD_ORPHAN_GRACE_SECONDS must be at least 10, well above the API\'s 5 s wait for Temporal')
      .default(120),

    HERALD_RENDER_TIMEOUT_MS: wholeNumber('HERALD_RENDER_TIMEOUT_MS', 2000, 10, 60_000, 'milliseconds'),
    HERALD_RENDER_MAX_BYTES: wholeNumber('HERALD_RENDER_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024, 'bytes'),
    // How many render processes (each with its own heap); HERALD_RENDER_THREADS is its name from
    // when renders ran on worker threads, still read so an existing deployment keeps its setting.
    HERALD_RENDER_PROCESSES: renderProcesses('HERALD_RENDER_PROCESSES'),
    HERALD_RENDER_THREADS: renderProcesses('HERALD_RENDER_THREADS'),

    HERALD_PAYLOAD_KEYS: payloadKeys,
    HERALD_CODEC_CORS_ORIGINS: optionalString,

    HERALD_RETENTION_DAYS: wholeNumber('HERALD_RETENTION_DAYS', 30, 1, 3650, 'days'),
    HERALD_RETENTION_SWEEP_INTERVAL_SECONDS: wholeNumber('HERALD_RETENTION_SWEEP_INTERVAL_SECONDS', 3600, 1, 86_400, 'seconds'),
    HERALD_REPORT_FOLD_INTERVAL_SECONDS: wholeNumber('HERALD_REPORT_FOLD_INTERVAL_SECONDS', 60, 1, 86_400, 'seconds'),
    // How long an audience run may take (AJO: 12 hours); members not reached by then are excluded as window-expired.
    HERALD_AUDIENCE_MAX_RUNTIME: z
      .string()
      .trim()
      .regex(/^\d+(ms|s|m|h)?$/, 'HERALD_AUDIENCE_MAX_RUNTIME must be a duration such as 12h, 90m, 30s or 5000ms (a bare number is seconds)')
      .optional()
      .transform((value) => durationMs(value ?? '12h'))
      .refine((ms) => ms >= 1000 && ms <= 7 * 24 * 3_600_000, 'HERALD_AUDIENCE_MAX_RUNTIME must be between 1s and 168h (a week)'),

    HERALD_AUTH_FAILURE_LIMIT: wholeNumber('HERALD_AUTH_FAILURE_LIMIT', 20, 1, 100_000, 'failed authentications per minute per client address'),
    HERALD_EMAIL_PROVIDER: z.enum(['resend', 'outbox'], { error: 'HERALD_EMAIL_PROVIDER must be resend or outbox' }).optional(),
    // Names only: the extra variables provider credentials live in (channel configurations name them).
    HERALD_SENDER_ENV: envNameList('HERALD_SENDER_ENV'),
    // Names only: which of them are set for the worker, so the API can review without holding the values.
    HERALD_SENDER_ENV_PRESENT: envNameList('HERALD_SENDER_ENV_PRESENT'),

    // Engagement tracking: where the public reaches the API (tracked links point there), the key
    // their tokens are signed with, and the per-address rate of the public /t/* endpoints.
    HERALD_PUBLIC_URL: optionalString.superRefine((value, ctx) => {
      const problem = value === undefined ? undefined : publicUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `HERALD_PUBLIC_URL ${problem}` });
    }),
    // Never echo the value: it is a secret.
    HERALD_TRACKING_SECRET: optionalString.refine(
      (value) => value === undefined || value.split(',').every((secret) => secret.trim().length >= 32),
      'HERALD_TRACKING_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`); to rotate, list the new one first: new,old',
    ),
    HERALD_TRACKING_RATE_LIMIT: wholeNumber('HERALD_TRACKING_RATE_LIMIT', 100, 1, 1_000_000, 'requests per second per client address'),
    // Provider events in (POST /webhooks/resend): the signing secret of the Resend webhook. Never echo it.
    RESEND_WEBHOOK_SECRET: optionalString.refine((value) => value === undefined || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(value), 'RESEND_WEBHOOK_SECRET must be the webhook\'s signing secret as Resend shows it: whsec_ followed by base64'),
    HERALD_PROVIDER_EVENTS_RATE_LIMIT: wholeNumber('HERALD_PROVIDER_EVENTS_RATE_LIMIT', 500, 1, 1_000_000, 'requests per second per client address on /webhooks/resend and /webhooks/twilio'),
    // Feedback webhooks out: private targets (loopback, RFC 1918, link-local, ULA) only for tests and
    // closed networks; the retry pace and request timeout; disabling an endpoint after N failures.
    HERALD_WEBHOOKS_ALLOW_PRIVATE: flag,
    HERALD_WEBHOOK_DISABLE_AFTER_FAILURES: wholeNumber('HERALD_WEBHOOK_DISABLE_AFTER_FAILURES', 0, 0, 1_000_000, 'consecutive failed requests (0: only after 24 hours of failures)'),
    HERALD_WEBHOOK_RETRY_INITIAL_MS: wholeNumber('HERALD_WEBHOOK_RETRY_INITIAL_MS', 5_000, 100, 600_000, 'milliseconds'),
    HERALD_WEBHOOK_TIMEOUT_MS: wholeNumber('HERALD_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000, 'milliseconds'),
    HERALD_WEBHOOK_POLL_MS: wholeNumber('HERALD_WEBHOOK_POLL_MS', 1_000, 100, 60_000, 'milliseconds'),
    // POST /v1/profiles/import reads its NDJSON body as a stream under these limits, not MAX_BODY_BYTES.
    HERALD_IMPORT_MAX_BYTES: wholeNumber('HERALD_IMPORT_MAX_BYTES', 1024 ** 3, 1024, 2 ** 50, 'bytes'),
    HERALD_IMPORT_MAX_LINE_BYTES: wholeNumber('HERALD_IMPORT_MAX_LINE_BYTES', 64 * 1024, 256, 64 * 1024 * 1024, 'bytes'),
  })
  .superRefine((env, ctx) => {
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
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS_CERT_PATH'],
        message: 'set both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH for mTLS, or neither',
      });
    }
  });

/** Why HERALD_PUBLIC_URL is not usable as the base of tracked links, or undefined when it is. */
function publicUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://herald.example.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.search || url.hash || value.includes('?') || value.includes('#')) return 'must not have a query or a fragment (a path prefix such as https://example.com/herald is fine)';
  return undefined;
}

/** The public base URL without a trailing slash; by default the API's own address (loopback for a wildcard HOST). */
function publicUrl(value: string | undefined, host: string, port: number): string {
  if (value !== undefined) {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  const reachable = ['0.0.0.0', '::', '[::]'].includes(host) ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

export interface PayloadKey {
  id: string;
  /** 32 bytes of AES-256 key material. Never logged. */
  key: Buffer;
}

export interface HeraldConfig {
  http: {
    port: number;
    host: string;
    /** Bootstrap full-access keys from HERALD_API_KEYS; keys created over the API live in the database. */
    apiKeys: string[];
    rateLimit: { perSecond: number; perKey: Record<string, number> };
    /** Failed authentications allowed per client address per minute before 429. */
    authFailuresPerMinute: number;
  };
  dataDir: string;
  /** The SQLite file of the embedded default; unused when `database` is PostgreSQL. */
  databasePath: string;
  /** PostgreSQL when DATABASE_URL is set, else SQLite at `databasePath`. */
  database: DatabaseTarget;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  temporal: {
    /** Set when the cluster is external; unset means the embedded dev server on `port`. */
    externalAddress?: string;
    address: string;
    port: number;
    uiPort: number;
    namespace: string;
    taskQueue: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string };
    apiKey?: string;
    cliPath?: string;
  };
  email: {
    /** Which provider delivers email: explicit HERALD_EMAIL_PROVIDER, else resend when RESEND_API_KEY is set, else the outbox. */
    provider: 'resend' | 'outbox';
    resendApiKey?: string;
    resendBaseUrl?: string;
    from: string;
    providerTimeoutMs: number;
  };
  sms: {
    /** Explicit HERALD_SMS_PROVIDER, else twilio when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) are set, else the outbox. */
    provider: 'twilio' | 'outbox';
    accountSid?: string;
    /** A secret: never logged or returned. */
    authToken?: string;
    from?: string;
    messagingServiceSid?: string;
    /** Twilio's API root (https://api.twilio.com); tests point it at a fake on loopback. */
    baseUrl?: string;
    providerTimeoutMs: number;
  };
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
  /**
   * Provider credentials that channel configurations name. The worker reads a named variable only
   * when it is one of `envNames` (RESEND_API_KEY and HERALD_SENDER_ENV), so a configuration can
   * never make it hand another variable to a provider.
   */
  sender: {
    envNames: string[];
    /** The values of those of `envNames` that are set. Secrets: never logged or returned. */
    secrets: Record<string, string>;
    /** HERALD_SENDER_ENV_PRESENT: the names set for the worker, as the supervisor or the operator tells the API; undefined when unset. */
    presentInWorker?: string[];
  };
  /** Limits on every template render (see src/rendering). */
  render: { timeoutMs: number; maxBytes: number; processes: number };
  /** AES-256-GCM payload encryption for Temporal; undefined when HERALD_PAYLOAD_KEYS is unset. The first key encrypts. */
  payloadKeys?: PayloadKey[];
  /** The Temporal UI origins allowed to call the codec endpoint. */
  codec: { corsOrigins: string[] };
  /** Rendered content, outbox rows and delivery details older than `days` are purged by a Temporal Schedule. */
  retention: { days: number; intervalSeconds: number };
  /** HERALD_REPORT_FOLD_INTERVAL_SECONDS: how often the report rollups fold in what changed. */
  reports: { foldIntervalSeconds: number };
  /** HERALD_AUDIENCE_MAX_RUNTIME: an audience run's window, in milliseconds. */
  audienceMaxRuntimeMs: number;
  /** Closing executions whose workflow never started (see workflows/sweep-orphaned-executions.ts). */
  orphanSweep: { intervalSeconds: number; graceSeconds: number };
  /** HERALD_PUBLIC_URL without a trailing slash: where the public reaches the API (tracked links, the ready cURL). */
  publicUrl: string;
  /** Engagement tracking: HMAC keys for tokens (the first signs; none when unset) and the public endpoints' rate per client address. Secrets: never logged. */
  tracking: { secrets: string[]; perSecond: number };
  /** Provider events in (/webhooks/resend, /webhooks/twilio): Resend's signing secret (absent: that endpoint refuses everything) and the rate per client address. Twilio's are verified with TWILIO_AUTH_TOKEN (sms.authToken). */
  providerEvents: { resendWebhookSecret?: string; perSecond: number };
  /** Feedback webhooks out (src/services/webhooks.ts, workflows/webhook-dispatcher.ts). */
  webhooks: { allowPrivate: boolean; disableAfterFailures: number; retryInitialMs: number; timeoutMs: number; pollMs: number };
  /** Bulk profile import (POST /v1/profiles/import): bytes per request body and per NDJSON line. */
  profileImport: { maxBytes: number; maxLineBytes: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment; throws a ConfigError that lists every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HeraldConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new ConfigError(`Invalid Herald configuration:\n${lines.join('\n')}\nFix the variables above (see docs/configuration.md) and start again.`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.HERALD_DATA_DIR);
  const useTls = e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT_PATH) || Boolean(e.TEMPORAL_API_KEY);
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      apiKeys: (e.HERALD_API_KEYS ?? '').split(',').map((key) => key.trim()).filter(Boolean),
      authFailuresPerMinute: e.HERALD_AUTH_FAILURE_LIMIT,
      rateLimit: {
        perSecond: e.HERALD_RATE_LIMIT,
        perKey: Object.fromEntries(
          (e.HERALD_RATE_LIMITS ?? '')
            .split(',')
            .filter((pair) => pair.includes('='))
            .map((pair) => {
              const [key, rate] = pair.trim().split('=') as [string, string];
              return [key.trim(), Number(rate)];
            }),
        ),
      },
    },
    dataDir,
    databasePath: e.HERALD_DB_PATH ? resolve(e.HERALD_DB_PATH) : resolve(dataDir, 'herald.db'),
    database: e.DATABASE_URL
      ? { dialect: 'postgres', url: e.DATABASE_URL }
      : { dialect: 'sqlite', path: e.HERALD_DB_PATH ? resolve(e.HERALD_DB_PATH) : resolve(dataDir, 'herald.db') },
    logLevel: e.HERALD_LOG_LEVEL,
    temporal: {
      externalAddress: e.TEMPORAL_ADDRESS,
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_PORT}`,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: useTls ? { certPath: e.TEMPORAL_TLS_CERT_PATH, keyPath: e.TEMPORAL_TLS_KEY_PATH, caPath: e.TEMPORAL_TLS_CA_PATH } : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      cliPath: e.TEMPORAL_CLI_PATH,
    },
    email: {
      provider: e.HERALD_EMAIL_PROVIDER ?? (e.RESEND_API_KEY ? 'resend' : 'outbox'),
      resendApiKey: e.RESEND_API_KEY,
      resendBaseUrl: e.RESEND_BASE_URL,
      from: e.EMAIL_FROM,
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    },
    sms: {
      provider: e.HERALD_SMS_PROVIDER ?? (e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && (e.TWILIO_FROM || e.TWILIO_MESSAGING_SERVICE_SID) ? 'twilio' : 'outbox'),
      ...(e.TWILIO_ACCOUNT_SID && { accountSid: e.TWILIO_ACCOUNT_SID }),
      ...(e.TWILIO_AUTH_TOKEN && { authToken: e.TWILIO_AUTH_TOKEN }),
      ...(e.TWILIO_FROM && { from: e.TWILIO_FROM }),
      ...(e.TWILIO_MESSAGING_SERVICE_SID && { messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID }),
      ...(e.TWILIO_BASE_URL && { baseUrl: e.TWILIO_BASE_URL }),
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    },
    push: pushSettings(e),
    sender: senderSettings(env, e.HERALD_SENDER_ENV ?? [], e.HERALD_SENDER_ENV_PRESENT),
    render: { timeoutMs: e.HERALD_RENDER_TIMEOUT_MS, maxBytes: e.HERALD_RENDER_MAX_BYTES, processes: e.HERALD_RENDER_PROCESSES ?? e.HERALD_RENDER_THREADS ?? Math.max(1, Math.min(4, availableParallelism())) },
    ...(e.HERALD_PAYLOAD_KEYS && { payloadKeys: parsePayloadKeys(e.HERALD_PAYLOAD_KEYS) }),
    codec: {
      corsOrigins: e.HERALD_CODEC_CORS_ORIGINS
        ? e.HERALD_CODEC_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean)
        : [`http://127.0.0.1:${e.TEMPORAL_UI_PORT}`, `http://localhost:${e.TEMPORAL_UI_PORT}`],
    },
    retention: { days: e.HERALD_RETENTION_DAYS, intervalSeconds: e.HERALD_RETENTION_SWEEP_INTERVAL_SECONDS },
    reports: { foldIntervalSeconds: e.HERALD_REPORT_FOLD_INTERVAL_SECONDS },
    audienceMaxRuntimeMs: e.HERALD_AUDIENCE_MAX_RUNTIME,
    orphanSweep: { intervalSeconds: e.HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS, graceSeconds: e.HERALD_ORPHAN_GRACE_SECONDS },
    publicUrl: publicUrl(e.HERALD_PUBLIC_URL, e.HOST, e.PORT),
    tracking: {
      secrets: (e.HERALD_TRACKING_SECRET ?? '').split(',').map((secret) => secret.trim()).filter(Boolean),
      perSecond: e.HERALD_TRACKING_RATE_LIMIT,
    },
    providerEvents: { ...(e.RESEND_WEBHOOK_SECRET && { resendWebhookSecret: e.RESEND_WEBHOOK_SECRET }), perSecond: e.HERALD_PROVIDER_EVENTS_RATE_LIMIT },
    webhooks: {
      allowPrivate: e.HERALD_WEBHOOKS_ALLOW_PRIVATE,
      disableAfterFailures: e.HERALD_WEBHOOK_DISABLE_AFTER_FAILURES,
      retryInitialMs: e.HERALD_WEBHOOK_RETRY_INITIAL_MS,
      timeoutMs: e.HERALD_WEBHOOK_TIMEOUT_MS,
      pollMs: e.HERALD_WEBHOOK_POLL_MS,
    },
    profileImport: { maxBytes: e.HERALD_IMPORT_MAX_BYTES, maxLineBytes: e.HERALD_IMPORT_MAX_LINE_BYTES },
  };
}

/** `12h`, `90m`, `30s`, `5000ms`; a bare number is seconds. */
function durationMs(value: string): number {
  const [, amount, unit = 's'] = /^(\d+)(ms|s|m|h)?$/.exec(value) ?? [];
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return Number(amount) * factor;
}

function pushSettings(e: z.infer<typeof envSchema>): HeraldConfig['push'] {
  const webpush = e.VAPID_SUBJECT && e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY ? { subject: e.VAPID_SUBJECT, publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY } : undefined;
  const fcm = e.FCM_PROJECT_ID && e.FCM_SERVICE_ACCOUNT ? { projectId: e.FCM_PROJECT_ID, serviceAccountJson: e.FCM_SERVICE_ACCOUNT } : undefined;
  const apns =
    e.APNS_TEAM_ID && e.APNS_KEY_ID && e.APNS_BUNDLE_ID && e.APNS_PRIVATE_KEY
      ? { teamId: e.APNS_TEAM_ID, keyId: e.APNS_KEY_ID, bundleId: e.APNS_BUNDLE_ID, privateKey: e.APNS_PRIVATE_KEY, production: e.APNS_PRODUCTION }
      : undefined;
  return {
    ...(e.FCM_BASE_URL && { fcmBaseUrl: e.FCM_BASE_URL }),
    ...(e.APNS_BASE_URL && { apnsBaseUrl: e.APNS_BASE_URL }),
    providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    ...(webpush && { webpush }),
    ...(fcm && { fcm }),
    ...(apns && { apns }),
    outboxDefault: e.HERALD_PUSH_OUTBOX ?? !(webpush && fcm && apns),
  };
}

function senderSettings(env: NodeJS.ProcessEnv, listed: string[], presentInWorker: string[] | undefined): HeraldConfig['sender'] {
  const envNames = [...new Set([...DEFAULT_SENDER_ENV_NAMES, ...listed])];
  const secrets: Record<string, string> = {};
  for (const name of envNames) {
    const value = env[name]?.trim();
    if (value) secrets[name] = value;
  }
  return { envNames, secrets, ...(presentInWorker !== undefined && { presentInWorker }) };
}

function parsePayloadKeys(value: string): PayloadKey[] {
  return value.split(',').map((entry) => {
    const [id, key] = entry.trim().split(':') as [string, string];
    return { id, key: Buffer.from(key, 'base64') };
  });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}
