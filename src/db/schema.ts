import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** JSON documents read whole: TEXT in both dialects. */
type Json = string;
/**
 * Queryable JSON (profile attributes and consents): TEXT on SQLite, jsonb on PostgreSQL, which
 * `pg` returns parsed. Written as JSON text; read only through `readJson` (src/db/dialect.ts).
 */
type QueryableJson = ColumnType<unknown, string, string>;

export interface CampaignTable {
  id: string;
  name: string;
  description: string | null;
  tags: Json;
  type: 'transactional' | 'marketing';
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  content: Json;
  audience: Json;
  start_at: string | null;
  end_at: string | null;
  status: 'draft' | 'scheduled' | 'live' | 'stopped' | 'completed';
  version: number;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
  /** The channel configuration it sends with; null: the channel's default provider. */
  channel_configuration_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The campaign's contextSchema (JSON Schema, as JSON text); null: none declared. */
  context_schema: ColumnType<string | null, string | null | undefined, string | null>;
  /** Engagement tracking `{opens?, clicks?, allowedLinkHosts?}` (JSON text, migration 0011); null: not tracked. */
  tracking: ColumnType<string | null, string | null | undefined, string | null>;
  /** Marketing capping `{max, periodHours}` (JSON text, migration 0016); null: none. */
  capping: ColumnType<string | null, string | null | undefined, string | null>;
  /** Marketing quiet hours `{from, to, timezone?, action}` (JSON text, migration 0016); null: none. */
  quiet_hours: ColumnType<string | null, string | null | undefined, string | null>;
  /** The campaign's steps (JSON text, migration 0023); null: none, one send. */
  steps: ColumnType<string | null, string | null | undefined, string | null>;
  /** The category key it carries (migration 0024); null: none. */
  category: ColumnType<string | null, string | null | undefined, string | null>;
  /** `standard` or `high` (migration 0031). */
  throughput: ColumnType<'standard' | 'high', 'standard' | 'high' | undefined, 'standard' | 'high'>;
}

/** A global capping rule: the most marketing messages one profile gets on a channel in a period (migration 0016). */
export interface CappingRuleTable {
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  max: number;
  period_hours: number;
  updated_at: string;
}

/** The high-throughput dispatch queue (migration 0031): one row per accepted trigger still to send. */
export interface HtTriggerTable {
  execution_id: string;
  dispatch_partition: number;
  /** The batch that claimed it; null: not claimed yet. */
  batch_id: string | null;
  accepted_at: string;
}

export interface CampaignVersionTable {
  campaign_id: string;
  version: number;
  snapshot: Json;
  created_at: string;
  /** draft | live | superseded (migration 0012); a new row is a draft. */
  status: ColumnType<'draft' | 'live' | 'superseded', 'draft' | 'live' | 'superseded' | undefined, 'draft' | 'live' | 'superseded'>;
  /** When the version went live; null until then. */
  activated_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ProfileTable {
  /** The internal id (`prf_…`, migration 0022) the audit log names a profile by; the database makes it. */
  id: ColumnType<string, never, never>;
  namespace: string;
  user_id: string;
  attributes: QueryableJson;
  consents: QueryableJson;
  auto_created: ColumnType<number, number | undefined, number>;
  created_by_execution: string | null;
  created_at: string;
  updated_at: string;
  /** BCP 47 tag in canonical form; chooses the content's language variant. Null: unknown. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ExecutionTable {
  id: string;
  request_id: string;
  request_hash: string;
  campaign_id: string;
  campaign_version: number;
  workflow_id: string;
  status: 'running' | 'completed' | 'failed' | 'digested';
  failure_reason: string | null;
  created_at: string;
  completed_at: string | null;
  /** When the orphan sweep last found this execution's workflow running in Temporal; null until then. */
  workflow_checked_at: string | null;
  /** The trigger's shared context (JSON), kept here so the workflow input carries only ids. */
  context: Json | null;
  /** The API key that started it; null when the API ran open or for executions from before keys. */
  started_by_key_id: string | null;
  sent_count: ColumnType<number, number | undefined, number>;
  failed_count: ColumnType<number, number | undefined, number>;
  excluded_count: ColumnType<number, number | undefined, number>;
  /** Set once retention has removed its deliveries, rendered messages and outbox rows. */
  details_purged_at: string | null;
  /** `unitary` (1–20 recipients in the call) or `audience` (migration 0015). */
  kind: ColumnType<'unitary' | 'audience', 'unitary' | 'audience' | undefined, 'unitary' | 'audience'>;
  audience_id: ColumnType<string | null, string | null | undefined, string | null>;
  throttle_per_second: ColumnType<number | null, number | null | undefined, number | null>;
  /** Members frozen by an audience run; null until the run starts. */
  targeted_count: ColumnType<number | null, number | null | undefined, number | null>;
  run_started_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** A scheduled audience run: its schedule id, when it fires, and when it was cancelled. */
  schedule_id: ColumnType<string | null, string | null | undefined, string | null>;
  execute_at: ColumnType<string | null, string | null | undefined, string | null>;
  schedule_cancelled_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** The trigger's cancellationKey (migration 0023); POST /v1/executions/cancel finds running executions by it. */
  cancellation_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** The execution whose digest this one joined (its own id when it opened the digest); null: no digest. */
  digest_execution_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DeliveryTable {
  execution_id: string;
  user_id: string;
  /** The recipient's index in the trigger call, so status lists keep the caller's order. */
  position: number;
  namespace: string;
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  status: 'pending' | 'sent' | 'failed' | 'excluded';
  reason: string | null;
  profile_created: ColumnType<number, number | undefined, number>;
  address: string | null;
  message_id: string | null;
  updated_at: string;
  /** This recipient's own context and channelData (JSON), as the trigger call gave them. */
  context: Json | null;
  channel_data: Json | null;
  /** The content variant the message was rendered from: `default` or a translation's tag; null until rendered. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  /** What the rendered message tracks: `opens`, `clicks` or `opens,clicks` (migration 0011); null: untracked. */
  tracking: ColumnType<
    string | null,
    string | null | undefined,
    string | null
  > /** Quiet hours deferred this message: it is not sent before this instant (migration 0015). */;
  not_before: ColumnType<string | null, string | null | undefined, string | null>;
  /** The furthest provider feedback (migration 0017): delayed < delivered < bounced < complained; never moves back. */
  feedback: ColumnType<
    'delayed' | 'delivered' | 'bounced' | 'complained' | null,
    'delayed' | 'delivered' | 'bounced' | 'complained' | null | undefined,
    'delayed' | 'delivered' | 'bounced' | 'complained' | null
  >;
  bounce_type: ColumnType<'hard' | 'soft' | null, 'hard' | 'soft' | null | undefined, 'hard' | 'soft' | null>;
  feedback_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** The delivery as reports last folded it (migration 0020); null: never folded. */
  report_signature: ColumnType<string | null, string | null | undefined, string | null>;
  /** The send step this delivery is the message of (migration 0023); null: a step-less campaign. */
  step_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The channel configuration that finally sent the message; null: the channel's default (migration 0027). */
  configuration_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The provider that took it (resend, smtp, twilio, …); null until sent. */
  provider: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 when a fallback configuration sent it, not the campaign's own. */
  failed_over: ColumnType<number, number | undefined, number>;
}

/** The original URL of a rewritten link; the click endpoint redirects only to these. */
export interface TrackedLinkTable {
  execution_id: string;
  position: number;
  link_index: number;
  url: string;
}

/** One recorded open or click of a delivery. No IP address is stored. */
export interface DeliveryEventTable {
  execution_id: string;
  position: number;
  /** Opens and clicks (Herald's tracking or the provider's), and provider feedback (migration 0017). */
  /** `seen` and `read`: an in-app message, the first time (src/repositories/inbox.ts). */
  type: 'opened' | 'clicked' | 'delivered' | 'delayed' | 'bounced' | 'complained' | 'unsubscribed' | 'seen' | 'read';
  /** The link clicked; null for opens (and for clicks a provider tracked). */
  link_index: number | null;
  occurred_at: string;
  /** Cut to 256 characters; null when the client sent none. */
  user_agent: string | null;
  /** The provider's raw reason (≤ 1 KB), migration 0017; null for Herald's own tracking. */
  detail: ColumnType<string | null, string | null | undefined, string | null>;
  /** The provider's event id, unique where set: a replayed event is refused (migration 0017). */
  provider_event_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The report fold that counted it (migration 0020); null: not folded yet. */
  report_folded: ColumnType<number | null, number | null | undefined, number | null>;
}

/** An address Herald does not send to on a channel (migration 0017); normalised (email lower-cased, phone E.164). */
export interface SuppressionTable {
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  address: string;
  reason: 'hard-bounce' | 'complaint' | 'manual' | 'import';
  detail: string | null;
  created_at: string;
}

/** What one recipient is sent, rendered by the preparation step; the send activity reads it by reference. */
export interface RenderedMessageTable {
  execution_id: string;
  position: number;
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  subject: string | null;
  html: string | null;
  text: string | null;
  created_at: string;
}

export interface OutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  to: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  campaign_id: string;
  execution_id: string;
  user_id: string;
  created_at: string;
}

/** A key created over the API. Only the SHA-256 of its token is stored, never the token. */
export interface ApiKeyTable {
  id: string;
  name: string;
  scope: 'full' | 'trigger';
  /** JSON array of campaign ids a trigger key is limited to; null when it may trigger any. */
  campaign_ids: Json | null;
  /** Hex SHA-256 of the token; authentication looks keys up by it. */
  token_hash: string;
  created_by_key_id: string;
  created_at: string;
  /** Written at most about once a minute per key. */
  last_used_at: string | null;
  revoked_at: string | null;
}

/** One change to a campaign, API key or profile, written in the transaction that made it. */
export interface AuditLogTable {
  id: string;
  occurred_at: string;
  actor_key_id: string;
  action: string;
  resource_type:
    | 'campaign'
    | 'api_key'
    | 'profile'
    | 'channel_configuration'
    | 'capping_rule'
    | 'audience'
    | 'suppression'
    | 'webhook_endpoint'
    | 'topic'
    | 'category';
  resource_id: string;
  before: Json | null;
  after: Json | null;
}

/** A channel configuration ("surface"); settings name environment variables, never hold a secret. */
export interface ChannelConfigurationTable {
  id: string;
  name: string;
  channel: 'email' | 'sms' | 'push' | 'inApp' | 'chat' | 'whatsapp';
  provider: string;
  settings: Json;
  /** JSON array of configuration ids tried in order when this one cannot take a message (migration 0027). */
  fallback: ColumnType<Json, Json | undefined, Json>;
  /** `{failureThreshold, openSeconds}` as JSON; null: the defaults (migration 0027). */
  circuit_breaker: ColumnType<Json | null, Json | null | undefined, Json | null>;
  created_at: string;
  updated_at: string;
}

/** A configuration's circuit breaker, shared by every worker (migration 0027, src/repositories/provider-circuits.ts). */
export interface ProviderCircuitTable {
  configuration_id: string;
  state: 'closed' | 'open' | 'half-open';
  consecutive_failures: number;
  open_until: string | null;
  trial_started_at: string | null;
  updated_at: string;
}

/** A device's push token on a profile (migration 0013); for platform `web` the token is the Web Push subscription JSON. */
export interface PushTokenTable {
  namespace: string;
  user_id: string;
  app_id: string;
  platform: 'ios' | 'android' | 'web';
  token: string;
  created_at: string;
  updated_at: string;
}

/** An audience (migration 0014): a rule over profiles or a static list; `definition` is its JSON. */
export interface AudienceTable {
  id: string;
  name: string;
  namespace: string;
  type: 'rule' | 'static';
  definition: Json;
  created_at: string;
  updated_at: string;
}

/** A user id in a static audience; it needs no profile yet. */
export interface AudienceMemberTable {
  audience_id: string;
  namespace: string;
  user_id: string;
  added_at: string;
}

/** One in-app message in a person's inbox (migration 0026); `data` is JSON text. */
export interface InboxMessageTable {
  id: string;
  namespace: string;
  user_id: string;
  campaign_id: string;
  execution_id: string;
  position: number;
  title: string;
  body: string;
  action_url: string | null;
  data: string | null;
  created_at: string;
  seen_at: string | null;
  read_at: string | null;
  archived_at: string | null;
  /** The last change a subscriber made (migration 0030); null until the first. */
  changed_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A topic (migration 0025): keyed by the caller's slug. */
export interface TopicTable {
  key: string;
  name: string;
  created_at: string;
  updated_at: string;
}

/** A subscriber of a topic; it needs no profile yet. */
export interface TopicSubscriptionTable {
  topic_key: string;
  namespace: string;
  user_id: string;
  subscribed_at: string;
}

/** What happened to a delivery, for the customer's feedback webhooks (migration 0019); ordered by id. */
export interface FeedbackEventTable {
  id: Generated<number>;
  /** One of FEEDBACK_EVENT_TYPES (src/repositories/feedback-events.ts), which says what each is. */
  type: string;
  execution_id: string;
  position: number;
  occurred_at: string;
  /** `{category?, code?, reason?, bounceType?, url?}` as JSON text; null: none. */
  detail: Json | null;
  created_at: string;
}

/** A customer's feedback webhook endpoint (migration 0019). The secret is stored encrypted, never in clear. */
export interface WebhookEndpointTable {
  id: string;
  url: string;
  /** JSON array of the event types it receives. */
  events: Json;
  /** JSON array of campaign ids it is limited to; null: every campaign. */
  campaign_ids: Json | null;
  /** The `whsec_…` signing secret, AES-256-GCM encrypted with a payload key (src/services/webhook-secrets.ts). */
  secret: string;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  /** The id of the last feedback event it acknowledged (or skipped); its dispatcher reads the ones after. */
  cursor_event_id: ColumnType<number, number | undefined, number>;
  created_at: string;
  updated_at: string;
}

/** One HTTP request to a webhook endpoint (migration 0019). */
export interface WebhookAttemptTable {
  id: Generated<number>;
  endpoint_id: string;
  /** The Standard Webhooks message id (`webhook-id` header). */
  message_id: string;
  /** JSON array of the feedback event ids the request carried (empty for a test event). */
  event_ids: Json;
  status_code: number | null;
  error: string | null;
  attempted_at: string;
  duration_ms: number;
}

/** Report counts per campaign, time bucket, metric and key (migration 0020); bigint on PostgreSQL, read through Number(). */
export interface ReportRollupTable {
  campaign_id: string;
  bucket_start: string;
  metric: string;
  key: string;
  count: ColumnType<number, number, number>;
}

/** The one row every report fold locks first (migration 0020). */
export interface ReportFoldTable {
  id: number;
  seq: number;
  folded_at: string | null;
}

/** Where one recipient of an execution stands in one step (migration 0023). */
export interface ExecutionStepTable {
  execution_id: string;
  /** The recipient's position in the trigger call. */
  position: number;
  step_id: string;
  type: 'send' | 'delay' | 'digest' | 'waitForEvent' | 'condition';
  status: 'waiting' | 'done' | 'stopped' | 'cancelled';
  /** Why it stopped: stopped-by-condition, event-timeout, event-received, …; null: none. */
  reason: string | null;
  /** A waiting step: when its wait ends at the latest. */
  until: string | null;
  at: string;
}

/** A digest (migration 0023), keyed by the execution that opened it and carries it on. */
export interface DigestTable {
  execution_id: string;
  campaign_id: string;
  /** Set while it takes triggers (unique); null once closed. */
  open_key: string | null;
  opened_at: string;
  closes_at: string;
  closed_at: string | null;
}

/** A recipient waiting for an event (migration 0023); deleted when the wait ends. */
export interface EventWaitTable {
  execution_id: string;
  position: number;
  step_id: string;
  workflow_id: string;
  name: string;
  namespace: string;
  user_id: string;
  /** JSON of the trigger's `context.<match>`; null: the step matches any event of the name. */
  match_value: string | null;
  created_at: string;
}

/** An event received with an eventId (migration 0023), so a repeat answers the same. */
export interface InboundEventTable {
  event_id: string;
  name: string;
  namespace: string;
  user_id: string;
  matched: number;
  received_at: string;
}

/** A category of campaigns (migration 0024), keyed by a slug; `default_channels` is JSON `{"email":true,…}`. */
export interface CategoryTable {
  key: string;
  name: string;
  description: string | null;
  /** 1: its messages cannot be turned off. */
  critical: number;
  default_channels: Json;
  created_at: string;
  updated_at: string;
}

/** One person's preferences (migration 0024): channels and per-category channels turned on or off, as JSON. */
export interface ProfilePreferenceTable {
  namespace: string;
  user_id: string;
  channels: Json;
  categories: Json;
  updated_at: string;
}

export interface Database {
  execution_steps: ExecutionStepTable;
  digests: DigestTable;
  event_waits: EventWaitTable;
  inbound_events: InboundEventTable;
  audiences: AudienceTable;
  audience_members: AudienceMemberTable;
  topics: TopicTable;
  topic_subscriptions: TopicSubscriptionTable;
  inbox_messages: InboxMessageTable;
  ht_triggers: HtTriggerTable;
  push_tokens: PushTokenTable;
  channel_configurations: ChannelConfigurationTable;
  campaigns: CampaignTable;
  categories: CategoryTable;
  profile_preferences: ProfilePreferenceTable;
  capping_rules: CappingRuleTable;
  campaign_versions: CampaignVersionTable;
  profiles: ProfileTable;
  executions: ExecutionTable;
  deliveries: DeliveryTable;
  outbox: OutboxTable;
  api_keys: ApiKeyTable;
  audit_log: AuditLogTable;
  rendered_messages: RenderedMessageTable;
  tracked_links: TrackedLinkTable;
  delivery_events: DeliveryEventTable;
  report_rollups: ReportRollupTable;
  report_folds: ReportFoldTable;
  suppressions: SuppressionTable;
  feedback_events: FeedbackEventTable;
  provider_circuits: ProviderCircuitTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_attempts: WebhookAttemptTable;
}

export type CampaignRow = Selectable<CampaignTable>;
export type ProfileRow = Selectable<ProfileTable>;
export type ExecutionRow = Selectable<ExecutionTable>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewDelivery = Insertable<DeliveryTable>;
