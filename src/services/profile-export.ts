import { invalidRequest } from '../domain/errors';
import { ProfileErasureRepository } from '../repositories/profile-erasure';
import {
  ProfileExportRepository,
  type DeliveryKey,
  type ExportedDelivery,
  type ExportedEventWait,
  type ExportedHistoryEntry,
  type ExportedInboundEvent,
} from '../repositories/profile-export';
import type { Profile, StoredPushToken } from '../repositories/profiles';
import { ProfileRepository } from '../repositories/profiles';
import { PreferenceRepository, type StoredPreferences } from '../repositories/preferences';
import { nothingHeld } from './profile-erasure';
import type { ServiceDependencies } from './service-dependencies';

/**
 * Deliveries per export page: each may carry its rendered message (up to HERALD_RENDER_MAX_BYTES),
 * so a person with years of messages is read a page at a time (`nextCursor`), never all at once.
 */
export const EXPORT_DELIVERIES_PER_PAGE = 1000;
/** Audit entries about the profile in an export; beyond that, `historyTruncated`. */
export const EXPORT_HISTORY_LIMIT = 1000;
/** Events received for the person in an export, newest first; beyond that, `inboundEventsTruncated`. */
export const EXPORT_INBOUND_EVENTS_LIMIT = 1000;

export interface ProfileExport {
  exportedAt: string;
  namespace: string;
  userId: string;
  profile: (Omit<Profile, 'namespace' | 'userId'> & { id?: string }) | null;
  pushTokens: StoredPushToken[];
  /** What the person turned on or off (docs/preferences.md); null: nothing. */
  preferences: StoredPreferences | null;
  audienceMemberships: Awaited<ReturnType<ProfileExportRepository['audienceMemberships']>>;
  topicSubscriptions: Awaited<ReturnType<ProfileExportRepository['topicSubscriptions']>>;
  /** The person's in-app inbox (docs/inbox.md). */
  inboxMessages: Awaited<ReturnType<ProfileExportRepository['inboxMessages']>>;
  history: ExportedHistoryEntry[];
  historyTruncated: boolean;
  suppressions: Awaited<ReturnType<ProfileExportRepository['suppressions']>>;
  inboundEvents: ExportedInboundEvent[];
  inboundEventsTruncated: boolean;
  /** The runs waiting now for an event of the person's (waitForEvent steps). */
  eventWaits: ExportedEventWait[];
  deliveries: ExportedDelivery[];
  /** More deliveries than this page holds: ask again with `cursor=nextCursor`. */
  truncated: boolean;
  nextCursor?: string;
}

const encodeCursor = (key: DeliveryKey) => Buffer.from(JSON.stringify([key.executionId, key.position]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): DeliveryKey {
  try {
    const [executionId, position] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof executionId === 'string' && Number.isInteger(position)) return { executionId, position: position as number };
  } catch {
    // fall through
  }
  throw invalidRequest([{ field: 'cursor', message: 'not a cursor from a previous page' }], 'Pass nextCursor from the previous page as it was.');
}

/**
 * Everything Herald holds about a person (GDPR Art. 15, and Art. 20 as machine-readable JSON):
 * the profile, its push tokens (in full: they are the person's data, though a device's secret), its preferences,
 * audience memberships, topic subscriptions, the audit entries about it (consent changes with how they came), the
 * suppressions of its addresses, the events received for it (POST /v1/events) and the runs waiting
 * for one, and its deliveries with their status, campaign, rendered content and tracking events, a
 * page of EXPORT_DELIVERIES_PER_PAGE at a time. Read in one transaction.
 * Not found when Herald holds nothing about the key.
 */
export async function exportProfile(deps: Pick<ServiceDependencies, 'db'>, namespace: string, userId: string, cursor?: string): Promise<ProfileExport> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  return deps.db.transaction().execute(async (trx) => {
    const erasure = new ProfileErasureRepository(trx);
    const reader = new ProfileExportRepository(trx);
    const stored = await erasure.profile(namespace, userId);
    const addresses = await erasure.addresses(namespace, userId, stored?.attributes);
    if (!(await erasure.holdsAnything(namespace, userId, addresses))) throw nothingHeld();
    const profiles = new ProfileRepository(trx);
    const profile = await profiles.get(namespace, userId);
    // The internal id the audit log names the profile by, read with the addresses above.
    const profileId = stored?.id ?? undefined;
    const history = await reader.history([`${namespace}/${userId}`, ...(profileId ? [profileId] : [])], EXPORT_HISTORY_LIMIT);
    const inboundEvents = await reader.inboundEvents(namespace, userId, EXPORT_INBOUND_EVENTS_LIMIT);
    const deliveries = await reader.deliveries(namespace, userId, EXPORT_DELIVERIES_PER_PAGE, after);
    const { namespace: _namespace, userId: _userId, ...profileFields } = profile ?? ({} as Profile);
    return {
      exportedAt: new Date().toISOString(),
      namespace,
      userId,
      profile: profile ? { ...(profileId && { id: profileId }), ...profileFields } : null,
      pushTokens: await profiles.pushTokens(namespace, userId),
      preferences: (await new PreferenceRepository(trx).get(namespace, userId)) ?? null,
      audienceMemberships: await reader.audienceMemberships(namespace, userId),
      topicSubscriptions: await reader.topicSubscriptions(namespace, userId),
      inboxMessages: await reader.inboxMessages(namespace, userId),
      history: history.items,
      historyTruncated: history.truncated,
      suppressions: await reader.suppressions(addresses),
      inboundEvents: inboundEvents.items,
      inboundEventsTruncated: inboundEvents.truncated,
      eventWaits: await reader.eventWaits(namespace, userId),
      deliveries: deliveries.items,
      truncated: deliveries.next !== undefined,
      ...(deliveries.next && { nextCursor: encodeCursor(deliveries.next) }),
    };
  });
}
