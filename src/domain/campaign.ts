import type { CampaignStep } from './campaign-steps';
import type { CampaignContent, Channel } from './channel-content';

/** The channels and their content live in channel-content.ts, which campaign steps share without a cycle. */
export {
  CHANNELS,
  isPushContent,
  isSmsContent,
  type CampaignContent,
  type Channel,
  type ChannelContent,
  type EmailContent,
  type PushContent,
  type SmsContent,
} from './channel-content';

export const CAMPAIGN_TYPES = ['transactional', 'marketing'] as const;
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

/** `high`: triggers are queued and sent in batches by the dispatchers (src/domain/high-throughput.ts, ADR 0010). */
export const THROUGHPUTS = ['standard', 'high'] as const;
export type Throughput = (typeof THROUGHPUTS)[number];

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'live', 'stopped', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export interface Audience {
  namespace: string;
  createMissingProfiles: boolean;
}

export interface Schedule {
  startAt?: string;
  endAt?: string;
}

export interface Campaign {
  id: string;
  name: string;
  description?: string;
  tags: string[];
  type: CampaignType;
  channel: Channel;
  content: CampaignContent;
  audience: Audience;
  schedule: Schedule;
  status: CampaignStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  activatedAt?: string;
  /** The channel configuration it sends with; absent: the channel's default provider. */
  channelConfigurationId?: string;
  /** A JSON Schema (draft 2020-12) the trigger call's context must match (src/domain/context-schema.ts). */
  contextSchema?: Record<string, unknown>;
  /** Engagement tracking: an open pixel and tracked links for email, tracked links for SMS (src/domain/tracking.ts). Absent: none. */
  tracking?: { opens?: boolean; clicks?: boolean; allowedLinkHosts?: string[] };
  /** Marketing only: the most messages one profile gets from this campaign in a period (src/repositories/capping.ts). */
  capping?: Capping;
  /** Marketing only: local hours in which nothing is sent, deferred or discarded (src/domain/quiet-hours.ts). */
  quietHours?: QuietHours;
  /** What a trigger does: sends, waits and conditions, in order (src/domain/campaign-steps.ts). Absent: one send. */
  steps?: CampaignStep[];
  /** The category its messages belong to (src/domain/preferences.ts): people's preferences for it apply. Absent: none. */
  category?: string;
  /** `high`: triggers queue and are sent in batches by the dispatchers (src/domain/high-throughput.ts). Absent: standard. */
  throughput?: Throughput;
}

/** At most `max` messages to one profile in any `periodHours` hours. */
export interface Capping {
  max: number;
  periodHours: number;
}

/**
 * A window [from, to) of local time ("HH:MM", 24 h; it may wrap midnight; from == to: no window),
 * in the profile's `timezone` attribute, else `timezone` (IANA), else UTC. A message that falls in
 * it is deferred to the window's end or discarded.
 */
export interface QuietHours {
  from: string;
  to: string;
  timezone?: string;
  action: 'defer' | 'discard';
}

/** The campaign as a trigger workflow needs it: frozen at one version. */
export type CampaignSnapshot = Pick<Campaign, 'id' | 'version' | 'type' | 'channel' | 'content' | 'audience' | 'schedule' | 'status'> &
  Pick<Partial<Campaign>, 'capping' | 'quietHours' | 'steps'>;

export type ScheduleWindowPosition = 'before-start' | 'open' | 'after-end';

/** Where `now` falls against the half-open window [startAt, endAt). */
export function scheduleWindowPosition(schedule: Schedule, nowMs: number): ScheduleWindowPosition {
  if (schedule.startAt && nowMs < Date.parse(schedule.startAt)) return 'before-start';
  if (schedule.endAt && nowMs >= Date.parse(schedule.endAt)) return 'after-end';
  return 'open';
}

/** Statuses that accept trigger calls. `scheduled` is accepted only so the window check can answer 422. */
export function acceptsTriggers(status: CampaignStatus): boolean {
  return status === 'live' || status === 'scheduled';
}
