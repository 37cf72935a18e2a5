import type { PushTarget } from './push';

export interface ChannelData {
  emailAddress?: string;
  mobilePhoneNumber?: string;
  /** Push: one device (src/domain/push.ts); a web token is the subscription JSON in canonical form. */
  pushInfo?: PushTarget;
  /** Chat: the Slack channel or user id this message goes to, instead of the profile's slackUserId. */
  chat?: { destination?: string };
}

export interface Recipient {
  userId: string;
  namespace: string;
  context?: Record<string, unknown>;
  channelData?: ChannelData;
}

export type RecipientStatus = 'pending' | 'sent' | 'failed' | 'excluded';

export interface RecipientOutcome {
  userId: string;
  status: Exclude<RecipientStatus, 'pending'>;
  reason?: string;
  profileCreated: boolean;
  messageId?: string;
  address?: string;
}

/** The outcome of one recipient by its position in the call: what a reference-based workflow may hold. */
export interface PositionOutcome {
  position: number;
  status: Exclude<RecipientStatus, 'pending'>;
  reason?: string;
}

/** Per-recipient context overrides the call's shared context key by key. */
export function mergeContext(shared: Record<string, unknown> | undefined, own: Record<string, unknown> | undefined): Record<string, unknown> {
  return { ...(shared ?? {}), ...(own ?? {}) };
}

/** channelData first, then the profile's `email` attribute, then the userId itself in the `email` namespace. */
export function resolveEmailAddress(recipient: Recipient, profileAttributes: Record<string, unknown>): string | undefined {
  if (recipient.channelData?.emailAddress) return recipient.channelData.emailAddress;
  const fromProfile = profileAttributes.email;
  if (typeof fromProfile === 'string' && fromProfile.length > 0) return fromProfile;
  if (recipient.namespace === 'email') return recipient.userId;
  return undefined;
}

/**
 * A recipient whose person was erased (src/repositories/profile-erasure.ts renames them
 * `erased:<position>`): a run still waiting for them (campaign steps) sends them nothing more and
 * never resolves or creates a profile for that name.
 */
export function isErasedRecipient(userId: string): boolean {
  return userId.startsWith('erased:');
}
