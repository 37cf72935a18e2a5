import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** JSON documents are stored as TEXT so that SQLite and PostgreSQL share one schema. */
type Json = string;

export interface CampaignTable {
  id: string;
  name: string;
  description: string | null;
  tags: Json;
  type: 'transactional' | 'marketing';
  channel: 'email' | 'sms' | 'push';
  content: Json;
  audience: Json;
  start_at: string | null;
  end_at: string | null;
  status: 'draft' | 'scheduled' | 'live' | 'stopped' | 'completed';
  version: number;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
}

export interface CampaignVersionTable {
  campaign_id: string;
  version: number;
  snapshot: Json;
  created_at: string;
}

export interface ProfileTable {
  namespace: string;
  user_id: string;
  attributes: Json;
  consents: Json;
  auto_created: ColumnType<number, number | undefined, number>;
  created_by_execution: string | null;
  created_at: string;
  updated_at: string;
}

export interface ExecutionTable {
  id: string;
  request_id: string;
  request_hash: string;
  campaign_id: string;
  campaign_version: number;
  workflow_id: string;
  status: 'running' | 'completed' | 'failed';
  failure_reason: string | null;
  created_at: string;
  completed_at: string | null;
  /** When the orphan sweep saw Temporal had this execution's workflow; null until then. */
  workflow_confirmed_at: string | null;
}

export interface DeliveryTable {
  execution_id: string;
  user_id: string;
  /** The recipient's index in the trigger call, so status lists keep the caller's order. */
  position: number;
  namespace: string;
  channel: 'email' | 'sms' | 'push';
  status: 'pending' | 'sent' | 'failed' | 'excluded';
  reason: string | null;
  profile_created: ColumnType<number, number | undefined, number>;
  address: string | null;
  message_id: string | null;
  updated_at: string;
}

export interface OutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  channel: 'email' | 'sms' | 'push';
  to: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  campaign_id: string;
  execution_id: string;
  user_id: string;
  created_at: string;
}

export interface Database {
  campaigns: CampaignTable;
  campaign_versions: CampaignVersionTable;
  profiles: ProfileTable;
  executions: ExecutionTable;
  deliveries: DeliveryTable;
  outbox: OutboxTable;
}

export type CampaignRow = Selectable<CampaignTable>;
export type ProfileRow = Selectable<ProfileTable>;
export type ExecutionRow = Selectable<ExecutionTable>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewDelivery = Insertable<DeliveryTable>;
