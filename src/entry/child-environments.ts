// What `npm start` passes to its children. Each child gets an allow list, not a copy of the
// supervisor's environment: the worker never sees an API key, the API never sees a provider
// secret, and a variable nobody listed (a cloud token, a shell secret) reaches neither.
//
// When you add a variable to src/config (a concern's schema, composed into envSchema by env.ts),
// list it below for the part(s) that read it, or in NEITHER when only the supervisor does;
// test/entry/child-environments.test.ts fails until every variable envSchema declares is classified.

import { DEFAULT_SENDER_ENV_NAMES, envNameProblem } from '../domain/channel-configuration';

export type ChildPart = 'worker' | 'api';

/** Operating system and runtime: search path, home, locale, temp dirs, proxies, CA bundles, Node and tsx options. */
export const SYSTEM_VARIABLES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'TMPDIR',
  'TEMP',
  'TMP',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'XDG_RUNTIME_DIR',
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];
/** Families of system variables: locale (LC_*), tsx (TSX_*), gRPC tracing (GRPC_*). */
export const SYSTEM_PREFIXES: readonly string[] = ['LC_', 'TSX_', 'GRPC_'];

/** Both parts: where the data lives, how to reach Temporal, payload encryption, logging, tracking. */
const SHARED: readonly string[] = [
  'HERALD_DATA_DIR',
  'HERALD_DB_PATH',
  'DATABASE_URL',
  'HERALD_LOG_LEVEL',
  'HERALD_PAYLOAD_KEYS',
  'HERALD_EMAIL_PROVIDER',
  'HERALD_SMS_PROVIDER',
  'HERALD_RENDER_TIMEOUT_MS',
  'HERALD_RENDER_MAX_BYTES',
  'HERALD_RENDER_PROCESSES',
  'HERALD_RENDER_THREADS',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_PORT',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_API_KEY',
  // The API queues high-throughput triggers in that many partitions, the worker runs their dispatchers (ADR 0010).
  'HERALD_HIGH_THROUGHPUT_PARTITIONS',
  // Engagement tracking: the worker signs tracked links under the public URL, the API verifies
  // them (and prints the public URL in the ready cURL).
  'HERALD_PUBLIC_URL',
  'HERALD_TRACKING_SECRET',
  // Feedback webhooks out: the worker delivers, the API checks targets and sends /test.
  'HERALD_WEBHOOKS_ALLOW_PRIVATE',
  'HERALD_WEBHOOK_DISABLE_AFTER_FAILURES',
  'HERALD_WEBHOOK_RETRY_INITIAL_MS',
  'HERALD_WEBHOOK_TIMEOUT_MS',
  'HERALD_WEBHOOK_POLL_MS',
];

/** Per part, the Herald variables it reads on top of SYSTEM_* and SHARED. */
export const ALLOWED: Readonly<Record<ChildPart, readonly string[]>> = {
  // Delivery (provider secret and settings) and the schedules the worker owns.
  worker: [
    ...SHARED,
    'RESEND_API_KEY',
    'RESEND_BASE_URL',
    'EMAIL_FROM',
    'PROVIDER_TIMEOUT_MS',
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'TWILIO_FROM',
    'TWILIO_MESSAGING_SERVICE_SID',
    'TWILIO_BASE_URL',
    // WhatsApp's default sender: Twilio's (with the account above) or Meta's Cloud API, and which one.
    'HERALD_WHATSAPP_PROVIDER',
    'TWILIO_WHATSAPP_FROM',
    'META_WHATSAPP_PHONE_NUMBER_ID',
    'META_WHATSAPP_ACCESS_TOKEN',
    'META_WHATSAPP_API_VERSION',
    'META_WHATSAPP_BASE_URL',
    // Push: provider API roots (configurations' credentials come through HERALD_SENDER_ENV), and
    // the per-platform defaults' settings and credentials.
    'FCM_BASE_URL',
    'APNS_BASE_URL',
    'VAPID_SUBJECT',
    'VAPID_PUBLIC_KEY',
    'VAPID_PRIVATE_KEY',
    'FCM_PROJECT_ID',
    'FCM_SERVICE_ACCOUNT',
    'APNS_TEAM_ID',
    'APNS_KEY_ID',
    'APNS_BUNDLE_ID',
    'APNS_PRIVATE_KEY',
    'APNS_PRODUCTION',
    // Chat: Slack's Web API root (configurations' tokens and webhook URLs come through HERALD_SENDER_ENV).
    'SLACK_BASE_URL',
    'HERALD_ORPHAN_SWEEP_INTERVAL_SECONDS',
    'HERALD_ORPHAN_GRACE_SECONDS',
    'HERALD_RETENTION_DAYS',
    'HERALD_RETENTION_SWEEP_INTERVAL_SECONDS',
    'HERALD_AUDIENCE_MAX_RUNTIME',
    'HERALD_WORKER_MAX_CACHED_WORKFLOWS',
    'HERALD_REPORT_FOLD_INTERVAL_SECONDS',
    // The names of further provider credentials; the variables it lists are passed too (senderVariables).
    'HERALD_SENDER_ENV',
  ],
  // HTTP: listening, authentication, rate limits, the codec endpoint's CORS (TEMPORAL_UI_PORT is its default origin).
  api: [
    ...SHARED,
    'PORT',
    'HOST',
    'HERALD_API_KEYS',
    'HERALD_RATE_LIMIT',
    'HERALD_RATE_LIMITS',
    'HERALD_AUTH_FAILURE_LIMIT',
    'HERALD_CODEC_CORS_ORIGINS',
    'TEMPORAL_UI_PORT',
    // How long a trigger's answer waits for its workflow's start (ADR 0011).
    'HERALD_START_WAIT_MS',
    'HERALD_TRACKING_RATE_LIMIT',
    // Names only: which provider credentials the worker has, for the review of channel configurations.
    'HERALD_SENDER_ENV_PRESENT',
    // Whether a push platform defaults to the outbox (the supervisor computes it from the worker's variables).
    'HERALD_PUSH_OUTBOX',
    // Limits of the streamed bulk profile import.
    'HERALD_IMPORT_MAX_BYTES',
    'HERALD_IMPORT_MAX_LINE_BYTES',
    // Provider events in: the Resend webhook's signing secret, and TWILIO_AUTH_TOKEN, the only key
    // Twilio signs its callbacks with (without TWILIO_ACCOUNT_SID, which stays denied, it sends nothing).
    'RESEND_WEBHOOK_SECRET',
    'HERALD_PROVIDER_EVENTS_RATE_LIMIT',
    'TWILIO_AUTH_TOKEN',
  ],
};

/**
 * Never passed to that part, whatever the allow list says (checked again on every call): the
 * worker runs tenant templates and calls providers, so it holds no API key (HERALD_RATE_LIMITS
 * names keys too); the API learns the provider from HERALD_EMAIL_PROVIDER, not from its secret.
 */
export const DENIED: Readonly<Record<ChildPart, readonly string[]>> = {
  worker: ['HERALD_API_KEYS', 'HERALD_RATE_LIMITS'],
  api: [
    'RESEND_API_KEY',
    'TWILIO_ACCOUNT_SID',
    'META_WHATSAPP_ACCESS_TOKEN',
    'VAPID_SUBJECT',
    'VAPID_PUBLIC_KEY',
    'VAPID_PRIVATE_KEY',
    'FCM_PROJECT_ID',
    'FCM_SERVICE_ACCOUNT',
    'APNS_TEAM_ID',
    'APNS_KEY_ID',
    'APNS_BUNDLE_ID',
    'APNS_PRIVATE_KEY',
    'APNS_PRODUCTION',
  ],
};

/** Read by the supervisor only (`npm start`), passed to neither part. */
export const SUPERVISOR_ONLY: readonly string[] = ['TEMPORAL_CLI_PATH'];

/**
 * The provider credentials channel configurations may name: RESEND_API_KEY and the names in
 * HERALD_SENDER_ENV. Only the worker gets them, and never a name that is Herald's own or the
 * runtime's (envNameProblem), so listing HERALD_API_KEYS or DATABASE_URL there passes nothing.
 */
export function senderVariables(parent: NodeJS.ProcessEnv): string[] {
  const listed = (parent.HERALD_SENDER_ENV ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return [...new Set([...DEFAULT_SENDER_ENV_NAMES, ...listed])].filter((name) => envNameProblem(name) === undefined);
}

function isAllowed(part: ChildPart, name: string, senders: readonly string[]): boolean {
  if (DENIED[part].includes(name)) return false;
  // A credential a configuration names goes to the worker; to the API only when its own list names it too (TWILIO_AUTH_TOKEN).
  if (senders.includes(name)) return part === 'worker' || ALLOWED[part].includes(name);
  return SYSTEM_VARIABLES.includes(name) || SYSTEM_PREFIXES.some((prefix) => name.startsWith(prefix)) || ALLOWED[part].includes(name);
}

/**
 * The environment for one child: the allowed variables of `parent`, then `set` (values the
 * supervisor decided, e.g. the dev server's TEMPORAL_ADDRESS; `undefined` removes). Setting a
 * variable the part may not have throws, so a denied secret cannot be added by mistake.
 */
export function childEnvironment(part: ChildPart, parent: NodeJS.ProcessEnv, set: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const senders = senderVariables(parent);
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && isAllowed(part, name, senders)) env[name] = value;
  }
  for (const [name, value] of Object.entries(set)) {
    if (!isAllowed(part, name, senders)) throw new Error(`${name} is not in the ${part}'s environment allow list (src/entry/child-environments.ts)`);
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
