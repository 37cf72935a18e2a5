import { resolve } from 'node:path';
import { z } from 'zod';

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

const envSchema = z
  .object({
    PORT: port('PORT', 3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    HERALD_DATA_DIR: z.string().min(1).default('./.data'),
    HERALD_DB_PATH: optionalString,
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
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS_CERT_PATH'],
        message: 'set both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH for mTLS, or neither',
      });
    }
  });

export interface HeraldConfig {
  http: { port: number; host: string; apiKeys: string[]; rateLimit: { perSecond: number; perKey: Record<string, number> } };
  dataDir: string;
  databasePath: string;
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
  email: { resendApiKey?: string; resendBaseUrl?: string; from: string; providerTimeoutMs: number };
  /** Closing executions whose workflow never started (see workflows/sweep-orphaned-executions.ts). */
  orphanSweep: { intervalSeconds: number; graceSeconds: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment; throws a ConfigError that lists every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HeraldConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new ConfigError(`Invalid Herald configuration:\n${lines.join('\n')}\nFix the variables above (see README.md, "Configuration") and start again.`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.HERALD_DATA_DIR);
  const useTls = e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT_PATH) || Boolean(e.TEMPORAL_API_KEY);
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      apiKeys: (e.HERALD_API_KEYS ?? '').split(',').map((key) => key.trim()).filter(Boolean),
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
    email: { resendApiKey: e.RESEND_API_KEY, resendBaseUrl: e.RESEND_BASE_URL, from: e.EMAIL_FROM, providerTimeoutMs: e.PROVIDER_TIMEOUT_MS },
    orphanSweep: { intervalSeconds: e.HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS, graceSeconds: e.HERALD_ORPHAN_GRACE_SECONDS },
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}
