import { DomainError, invalidRequest } from '../domain/errors';
import { NO_PREFERENCES, preferenceIssues, withKnownCategories, type Category, type Preferences } from '../domain/preferences';
import type { Subscriber } from '../domain/subscriber-token';
import { AuditLogRepository } from '../repositories/audit-log';
import { CategoryRepository } from '../repositories/categories';
import { PreferenceRepository } from '../repositories/preferences';
import type { ServiceDependencies } from './service-dependencies';

/** Who changed a person's preferences, as the audit log names them: an API key's id, or one of these. */
export const PREFERENCE_ACTORS = {
  /** The person, with a subscriber token (`PUT /v1/inbox/preferences`). */
  subscriber: 'subscriber:inbox',
  /** The person, on the hosted page (`POST /preferences/{token}`). */
  page: 'public:preferences',
} as const;

const noProfile = ({ namespace, userId }: Subscriber) =>
  new DomainError(
    'not-found',
    'profile-not-found',
    'Profile not found',
    `There is no profile ${namespace}/${userId}: preferences belong to a profile (PUT /v1/profiles/{namespace}/{userId} makes one).`,
  );

/** A person's preferences and the categories they may be set for: what the hosted page shows. */
export interface PreferenceChoices {
  preferences: Preferences;
  categories: Category[];
}

/** A person's preferences as set (settings of deleted categories left out); none set: empty. 404 without a profile. */
export async function getPreferences(deps: Pick<ServiceDependencies, 'db'>, person: Subscriber): Promise<Preferences> {
  return (await preferenceChoices(deps, person)).preferences;
}

/** The person's preferences with every category, in one transaction; 404 without a profile. */
export function preferenceChoices(deps: Pick<ServiceDependencies, 'db'>, person: Subscriber): Promise<PreferenceChoices> {
  return deps.db.transaction().execute(async (trx) => {
    if ((await new AuditLogRepository(trx).profileIdOf(person.namespace, person.userId)) === undefined) throw noProfile(person);
    const categories = await new CategoryRepository(trx).list();
    const stored = await new PreferenceRepository(trx).get(person.namespace, person.userId);
    const known = new Set(categories.map((category) => category.key));
    const preferences = stored ? withKnownCategories({ channels: stored.channels, categories: stored.categories }, known) : NO_PREFERENCES;
    return { preferences, categories };
  });
}

/**
 * Replaces a person's preferences, with its audit entry (before and after, under the profile's
 * internal id), in one transaction: the next send reads them. 400 naming the path of each
 * category that does not exist and of each channel turned off in a critical category; 404
 * without a profile.
 */
export function putPreferences(deps: Pick<ServiceDependencies, 'db'>, person: Subscriber, preferences: Preferences, actorKeyId: string): Promise<Preferences> {
  return writePreferences(deps, person, () => preferences, actorKeyId);
}

/**
 * Lays `changes` over the person's preferences (what the hosted page's form changed, and nothing
 * else), then stores them as putPreferences does.
 */
export function changePreferences(deps: Pick<ServiceDependencies, 'db'>, person: Subscriber, changes: Preferences, actorKeyId: string): Promise<Preferences> {
  return writePreferences(
    deps,
    person,
    (current) => {
      const categories = { ...current.categories };
      for (const [key, switches] of Object.entries(changes.categories)) categories[key] = { ...categories[key], ...switches };
      return { channels: { ...current.channels, ...changes.channels }, categories };
    },
    actorKeyId,
  );
}

function writePreferences(
  deps: Pick<ServiceDependencies, 'db'>,
  person: Subscriber,
  next: (current: Preferences) => Preferences,
  actorKeyId: string,
): Promise<Preferences> {
  return deps.db.transaction().execute(async (trx) => {
    const auditLog = new AuditLogRepository(trx);
    const profileId = await auditLog.profileIdOf(person.namespace, person.userId);
    if (profileId === undefined) throw noProfile(person);
    const categories = await new CategoryRepository(trx).list();
    const repository = new PreferenceRepository(trx);
    const stored = await repository.get(person.namespace, person.userId);
    const before = stored && { channels: stored.channels, categories: stored.categories };
    // Settings of deleted categories are dropped from what a change starts from, as GET leaves them out.
    const known = new Set(categories.map((category) => category.key));
    const preferences = next(withKnownCategories(before ?? NO_PREFERENCES, known));
    const issues = preferenceIssues(preferences, new Map(categories.map((category) => [category.key, category])));
    if (issues.length > 0) throw invalidRequest(issues, 'These preferences cannot be set; see errors.');
    const written = await repository.put(person.namespace, person.userId, preferences);
    const after = { channels: written.channels, categories: written.categories };
    await auditLog.record({
      actorKeyId,
      action: 'profile.preferences-updated',
      resourceType: 'profile',
      resourceId: profileId,
      ...(before && { before }),
      after,
    });
    return after;
  });
}
