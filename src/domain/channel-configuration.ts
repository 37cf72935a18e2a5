import { z } from 'zod';
import type { Channel } from './campaign';
import { isDeliverableEmailAddress, singleLine } from './header-safety';
import type { FieldIssue } from './errors';
import type { CircuitBreakerSettings } from './provider-failover';

/**
 * Channel configurations (AJO's "surfaces"): who a channel sends as and through which provider.
 * Settings never hold a credential: they NAME the environment variables the worker reads it
 * from, so nothing secret is stored in the database or returned by the API.
 */

export const CHANNEL_PROVIDERS = {
  email: ['resend', 'smtp', 'ses', 'outbox'],
  sms: ['twilio', 'outbox'],
  push: ['fcm', 'apns', 'webpush', 'outbox'],
  // No provider: an in-app message is stored in Herald's own inbox.
  inApp: [],
  chat: ['slack', 'msteams', 'discord', 'outbox'],
  // Twilio's settings serve WhatsApp as SMS (`from` then is a WhatsApp-enabled number in E.164).
  whatsapp: ['twilio', 'meta', 'outbox'],
} as const satisfies Record<Channel, readonly string[]>;

export const PROVIDERS = ['resend', 'smtp', 'ses', 'twilio', 'fcm', 'apns', 'webpush', 'slack', 'msteams', 'discord', 'meta', 'outbox'] as const;
/** The providers a worker can send with; a configuration of another (modelled, not wired yet) fails review. */
export const SENDING_PROVIDERS = [
  'resend',
  'smtp',
  'ses',
  'twilio',
  'fcm',
  'apns',
  'webpush',
  'slack',
  'msteams',
  'discord',
  'meta',
  'outbox',
] as const satisfies readonly Provider[];
export type Provider = (typeof PROVIDERS)[number];

/** The environment variable the worker has always read Resend's key from; a provider variable without being listed. */
export const DEFAULT_SENDER_ENV_NAMES: readonly string[] = ['RESEND_API_KEY'];

export const ENV_NAME = /^[A-Z][A-Z0-9_]{0,127}$/;

/**
 * Variables a configuration may never name, and HERALD_SENDER_ENV may never list: Herald's own
 * settings and secrets (API keys, payload keys, the database URL, Temporal credentials) and the
 * runtime's. A worker hands the value of a named variable to a provider, so naming one of these
 * would send it there.
 */
const RESERVED_ENV_PREFIXES = ['HERALD_', 'TEMPORAL_', 'LC_', 'TSX_', 'GRPC_', 'NODE_', 'NPM_', 'XDG_', 'SSL_', 'LD_', 'PG'];
const RESERVED_ENV_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'TMPDIR',
  'TEMP',
  'TMP',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'DATABASE_URL',
  'PORT',
  'HOST',
  'EMAIL_FROM',
  'RESEND_BASE_URL',
  'PROVIDER_TIMEOUT_MS',
]);

export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return 'must be an environment variable name: A-Z, 0-9 and _, starting with a letter, at most 128 characters (e.g. RESEND_API_KEY)';
  if (RESERVED_ENV_NAMES.has(name) || RESERVED_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return `${name} is one of Herald's own or the runtime's variables and cannot hold a provider credential`;
  }
  return undefined;
}

const envName = z.string().superRefine((name, ctx) => {
  const problem = envNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A chat destination: a Slack channel or user id (C0123ABCD, U0123ABCD) or a #channel name (src/channels/chat/). */
export const CHAT_DESTINATION = /^(?:[A-Z0-9]{2,40}|#[a-z0-9][a-z0-9._-]{0,79})$/;

/** `addr@example.com` or `Display Name <addr@example.com>`, on one line. */
const SENDER = /^(?:([^<>"\u0000-\u001F\u007F]*?)\s*<([^<>\s]+)>|([^<>\s]+))$/;
export function isSafeSender(value: string): boolean {
  if (value.length > 320 || value !== singleLine(value)) return false;
  const match = SENDER.exec(value);
  if (!match) return false;
  return isDeliverableEmailAddress(match[2] ?? match[3] ?? '');
}
const sender = z.string().refine(isSafeSender, 'must be an address (a@example.com) or "Name <a@example.com>", on one line');
const address = z.string().refine(isDeliverableEmailAddress, 'must be an email address such as support@example.com');

/** Header names as RFC 5322 allows (printable ASCII without the colon); these the provider and Herald set. */
const HEADER_NAME = /^[!-9;-~]{1,64}$/;
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'sender',
  'return-path',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'idempotency-key',
]);
const headers = z.record(z.string(), z.string()).superRefine((value, ctx) => {
  const entries = Object.entries(value);
  if (entries.length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 headers' });
  for (const [name, headerValue] of entries) {
    if (!HEADER_NAME.test(name))
      ctx.addIssue({ code: 'custom', path: [name], message: 'a header name is printable ASCII without ":" or spaces, at most 64 characters' });
    else if (RESERVED_HEADERS.has(name.toLowerCase()))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${name} is set by Herald or the provider; use the settings (from, replyTo) or the campaign instead`,
      });
    // A CR or LF in a value would inject further headers.
    if (headerValue !== singleLine(headerValue) || /[\u0000-\u001F\u007F]/.test(headerValue) || headerValue.length > 998) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'a header value is one line without control characters, at most 998 characters' });
    }
  }
});

/** Reply-To: one address or a list, on every email provider. */
const replyTo = z.union([address, z.array(address).min(1).max(50)]);

/** A DNS name (RFC 1123 labels) or an IP address: where an SMTP server listens. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const smtpHost = z.union([z.ipv4(), z.ipv6(), z.string().regex(HOST_NAME)], { error: 'must be a host name (smtp.example.com) or an IP address' });

export const PROVIDER_SETTINGS = {
  resend: z
    .object({
      from: sender,
      replyTo: replyTo.optional(),
      headers: headers.optional(),
      apiKeyEnv: envName.default('RESEND_API_KEY'),
    })
    .strict(),
  smtp: z
    .object({
      host: smtpHost,
      port: z.number().int().min(1).max(65535).default(587),
      // true: TLS from the first byte (port 465); false: STARTTLS whenever the server offers it (587, 25).
      secure: z.boolean().default(false),
      username: z.string().min(1).max(256).optional(),
      passwordEnv: envName.optional(),
      from: sender,
      replyTo: replyTo.optional(),
      headers: headers.optional(),
    })
    .strict()
    .refine((value) => (value.username === undefined) === (value.passwordEnv === undefined), {
      message: 'give username and passwordEnv together, or neither for a server without authentication',
      path: ['passwordEnv'],
    }),
  ses: z
    .object({
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1'),
      accessKeyIdEnv: envName,
      secretAccessKeyEnv: envName,
      configurationSet: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an SES configuration set name: letters, digits, _ and -, at most 64 characters')
        .optional(),
      from: sender,
      replyTo: replyTo.optional(),
      headers: headers.optional(),
      // Another SES v2 endpoint than the region's (a VPC endpoint, or a test's loopback fake).
      endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://email.eu-west-1.amazonaws.com' }).optional(),
    })
    .strict(),
  twilio: z
    .object({
      from: z
        .string()
        .regex(/^(\+[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/, 'must be an E.164 number (+14155550100) or an alphanumeric sender id of up to 11 characters')
        .optional(),
      messagingServiceSid: z
        .string()
        .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Twilio Messaging Service SID (MG followed by 32 hex digits)')
        .optional(),
      accountSidEnv: envName,
      authTokenEnv: envName,
    })
    .strict()
    .refine((value) => (value.from === undefined) !== (value.messagingServiceSid === undefined), {
      message: 'give exactly one of from and messagingServiceSid',
      path: ['from'],
    }),
  fcm: z.object({ projectId: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Firebase project id'), serviceAccountEnv: envName }).strict(),
  apns: z
    .object({
      teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'must be a 10-character Apple team id'),
      keyId: z.string().regex(/^[A-Z0-9]{10}$/, 'must be a 10-character APNs key id'),
      bundleId: z.string().regex(/^[A-Za-z0-9.-]{1,155}$/, 'must be an app bundle id such as com.example.app'),
      privateKeyEnv: envName,
      production: z.boolean().default(false),
    })
    .strict(),
  webpush: z
    .object({
      vapidSubject: z
        .string()
        .max(512)
        .regex(/^(mailto:[^\s]+@[^\s]+|https:\/\/[^\s]+)$/, 'must be a mailto: or https: URL'),
      vapidPublicKeyEnv: envName,
      vapidPrivateKeyEnv: envName,
    })
    .strict(),
  slack: z
    .object({
      botTokenEnv: envName.optional(),
      webhookUrlEnv: envName.optional(),
      defaultDestination: z.string().regex(CHAT_DESTINATION, 'must be a Slack channel or user id (C0123ABCD, U0123ABCD) or a #channel name').optional(),
    })
    .strict()
    .refine((value) => (value.botTokenEnv === undefined) !== (value.webhookUrlEnv === undefined), {
      message: 'give exactly one of botTokenEnv (chat.postMessage) and webhookUrlEnv (an incoming webhook)',
      path: ['botTokenEnv'],
    })
    .refine((value) => value.defaultDestination === undefined || value.botTokenEnv !== undefined, {
      message: 'an incoming webhook posts to its own channel: defaultDestination goes with botTokenEnv',
      path: ['defaultDestination'],
    }),
  msteams: z.object({ webhookUrlEnv: envName }).strict(),
  discord: z
    .object({
      webhookUrlEnv: envName,
      username: z
        .string()
        .min(1)
        .max(80)
        .refine((value) => value === singleLine(value), 'must be one line')
        .optional(),
    })
    .strict(),
  // WhatsApp's Cloud API: the sending number's id and a system user's access token (src/channels/whatsapp/).
  meta: z
    .object({
      phoneNumberId: z.string().regex(/^\d{1,32}$/, 'must be the phone number id (digits) from the WhatsApp Manager'),
      accessTokenEnv: envName,
      apiVersion: z
        .string()
        .regex(/^v\d{1,3}\.\d{1,3}$/, 'must be a Graph API version such as v21.0')
        .optional(),
    })
    .strict(),
  outbox: z.object({}).strict(),
} satisfies Record<Provider, z.ZodType>;

export type ResendSettings = z.output<(typeof PROVIDER_SETTINGS)['resend']>;
export type SmtpSettings = z.output<(typeof PROVIDER_SETTINGS)['smtp']>;
export type SesSettings = z.output<(typeof PROVIDER_SETTINGS)['ses']>;
export type ProviderSettings = { [P in Provider]: z.output<(typeof PROVIDER_SETTINGS)[P]> }[Provider];

export interface ChannelConfiguration {
  id: string;
  name: string;
  channel: Channel;
  provider: Provider;
  /** Non-secret settings; `*Env` fields name environment variables. */
  settings: Record<string, unknown>;
  /** Configurations of the same channel tried in order when this one cannot take a message now (src/domain/provider-failover.ts). */
  fallback: string[];
  /** When this configuration's circuit opens and for how long; the defaults unless set. */
  circuitBreaker: CircuitBreakerSettings;
  createdAt: string;
  updatedAt: string;
}

/**
 * Validates a provider's settings for a channel; answers the settings with defaults applied, or
 * the issues (fields relative to the request body).
 */
export function parseProviderSettings(channel: Channel, provider: string, settings: unknown): { settings: Record<string, unknown> } | { issues: FieldIssue[] } {
  const allowed: readonly string[] = CHANNEL_PROVIDERS[channel];
  if (!allowed.includes(provider)) return { issues: [{ field: 'provider', message: `the ${channel} channel has the providers ${allowed.join(', ')}` }] };
  const result = PROVIDER_SETTINGS[provider as Provider].safeParse(settings ?? {});
  if (result.success) return { settings: result.data as Record<string, unknown> };
  return { issues: result.error.issues.map((issue) => ({ field: ['settings', ...issue.path].join('.'), message: issue.message })) };
}

/** The environment variables a configuration names (its `*Env` settings). */
export function namedEnvVariables(configuration: Pick<ChannelConfiguration, 'settings'>): string[] {
  return Object.entries(configuration.settings)
    .filter(([key, value]) => key.endsWith('Env') && typeof value === 'string')
    .map(([, value]) => value as string);
}

/**
 * What review checks about a campaign's channel configuration: it exists, serves the campaign's
 * channel, and every variable it names is set where the sends happen.
 */
export function reviewChannelConfiguration(
  campaign: { channel: Channel; channelConfigurationId?: string },
  configuration: ChannelConfiguration | undefined,
  isEnvPresent: (name: string) => boolean,
): FieldIssue[] {
  if (campaign.channelConfigurationId === undefined) return [];
  const field = 'channelConfigurationId';
  if (!configuration) return [{ field, message: `channel configuration ${campaign.channelConfigurationId} does not exist` }];
  const issues: FieldIssue[] = [];
  if (configuration.channel !== campaign.channel) {
    issues.push({ field, message: `channel configuration ${configuration.id} is for ${configuration.channel}, the campaign sends by ${campaign.channel}` });
  }
  if (!(SENDING_PROVIDERS as readonly string[]).includes(configuration.provider)) {
    issues.push({ field, message: `the ${configuration.provider} ${configuration.channel} provider is not available yet` });
  }
  for (const name of namedEnvVariables(configuration)) {
    if (!isEnvPresent(name))
      issues.push({ field, message: `channel configuration ${configuration.id} names the environment variable ${name}, which is not set for the worker` });
  }
  return issues;
}
