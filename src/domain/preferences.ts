import { CHANNELS, type Channel } from './channel-content';
import type { FieldIssue } from './errors';

/**
 * Preferences (docs/preferences.md): what a person turned on or off, per channel and per category
 * of campaign. Categories are the operator's (`POST /v1/categories`); a campaign carries at most
 * one. Pure: the preparation of every send (unitary, audience, campaign steps) asks
 * `preferenceExclusion`, the API validates with `preferenceIssues`, the hosted page shows
 * `preferenceAllows` for each toggle.
 */

/** The exclusion reason of a message the person's preferences turned off. */
export const PREFERENCE_EXCLUSION = 'preference';

/** The hosted preference page's path, under HERALD_PUBLIC_URL: `{{ preferencesUrl }}` in templates. */
export const preferencePagePath = (token: string) => `/preferences/${token}`;

/** A category key: a slug, lowercase letters and digits with `-` or `_` inside, at most 64 characters. */
export const CATEGORY_KEY_PATTERN = /^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$/;

/** Channels turned on (true) or off (false); a channel left out is unset. */
export type ChannelSwitches = Partial<Record<Channel, boolean>>;

export interface Preferences {
  /** Per channel, for every message on it (a category's own setting overrides it). */
  channels: ChannelSwitches;
  /** Per category key, per channel. */
  categories: Record<string, ChannelSwitches>;
}

export const NO_PREFERENCES: Preferences = Object.freeze({ channels: Object.freeze({}), categories: Object.freeze({}) }) as Preferences;

export interface Category {
  key: string;
  name: string;
  description?: string;
  /** Its messages cannot be turned off (security alerts, legal notices): sent whatever the preferences. */
  critical: boolean;
  /** What a person who set nothing for a channel gets; a channel left out is on. */
  defaultChannels: ChannelSwitches;
  createdAt: string;
  updatedAt: string;
}

/** What the decision needs of a category. */
export type CategoryRules = Pick<Category, 'key' | 'critical' | 'defaultChannels'>;

/**
 * Whether a message on `channel` (in `category`, if the campaign carries one) reaches the person.
 * A critical category always does. Otherwise the first that is set decides: the person's setting
 * for the category and channel, then the person's setting for the channel, then the category's
 * default for the channel; with none of them set, the message goes. The person's own choices come
 * before the operator's defaults, so a channel turned off stays off in every category whose
 * default is on, unless the person turned it on for that category.
 */
export function preferenceAllows(preferences: Preferences | undefined, channel: Channel, category?: CategoryRules): boolean {
  if (category?.critical) return true;
  const forCategory = category === undefined ? undefined : ownValue(preferences?.categories, category.key)?.[channel];
  if (forCategory !== undefined) return forCategory;
  const forChannel = preferences?.channels[channel];
  if (forChannel !== undefined) return forChannel;
  return category?.defaultChannels[channel] ?? true;
}

/** `preference` when the person's preferences turn this message off; undefined when it may go. */
export function preferenceExclusion(preferences: Preferences | undefined, channel: Channel, category?: CategoryRules): typeof PREFERENCE_EXCLUSION | undefined {
  return preferenceAllows(preferences, channel, category) ? undefined : PREFERENCE_EXCLUSION;
}

/**
 * What a new set of preferences may not say, each under its path: a category that does not exist
 * (`categories.<key>`), and a channel turned off in a critical category
 * (`categories.<key>.<channel>`), which cannot be turned off.
 */
export function preferenceIssues(preferences: Preferences, categories: ReadonlyMap<string, CategoryRules>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [key, switches] of Object.entries(preferences.categories)) {
    const category = categories.get(key);
    if (!category) {
      issues.push({ field: `categories.${key}`, message: `there is no category ${key} (GET /v1/categories lists them)` });
      continue;
    }
    if (!category.critical) continue;
    for (const channel of CHANNELS) {
      if (switches[channel] === false) {
        issues.push({ field: `categories.${key}.${channel}`, message: `${key} is a critical category: its messages cannot be turned off` });
      }
    }
  }
  return issues;
}

/** The preferences without the settings of categories that no longer exist (a deleted category's). */
export function withKnownCategories(preferences: Preferences, known: ReadonlySet<string>): Preferences {
  const categories = Object.fromEntries(Object.entries(preferences.categories).filter(([key]) => known.has(key)));
  return { channels: preferences.channels, categories };
}

/** Own properties only: a category key such as `constructor` never reads Object.prototype. */
function ownValue<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
