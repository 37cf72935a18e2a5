import { describe, expect, it } from 'vitest';
import { changesOf, decodeShown, encodeShown, toggles } from '../../src/api/routes/preference-page/preference-page';
import {
  CATEGORY_KEY_PATTERN,
  NO_PREFERENCES,
  preferenceAllows,
  preferenceExclusion,
  preferenceIssues,
  withKnownCategories,
  type Category,
  type CategoryRules,
  type Preferences,
} from '../../src/domain/preferences';

const billing: CategoryRules = { key: 'billing', critical: false, defaultChannels: {} };
const digest: CategoryRules = { key: 'digest', critical: false, defaultChannels: { email: true, sms: false } };
const security: CategoryRules = { key: 'security', critical: true, defaultChannels: {} };

const prefs = (p: Partial<Preferences>): Preferences => ({ channels: {}, categories: {}, ...p });

describe('the preference decision', () => {
  it('sends when nothing is set, with or without a category', () => {
    expect(preferenceAllows(undefined, 'email')).toBe(true);
    expect(preferenceAllows(NO_PREFERENCES, 'sms', billing)).toBe(true);
    expect(preferenceExclusion(undefined, 'push', billing)).toBeUndefined();
  });

  it('a channel turned off excludes every message on it, in any category, with reason preference', () => {
    const p = prefs({ channels: { sms: false } });
    expect(preferenceExclusion(p, 'sms')).toBe('preference');
    expect(preferenceExclusion(p, 'sms', billing)).toBe('preference');
    expect(preferenceExclusion(p, 'email', billing)).toBeUndefined();
  });

  it("a category's setting overrides the channel's, both ways", () => {
    const offInCategory = prefs({ channels: { email: true }, categories: { billing: { email: false } } });
    expect(preferenceAllows(offInCategory, 'email', billing)).toBe(false);
    expect(preferenceAllows(offInCategory, 'email')).toBe(true);
    expect(preferenceAllows(offInCategory, 'email', digest)).toBe(true);
    const onInCategory = prefs({ channels: { email: false }, categories: { billing: { email: true } } });
    expect(preferenceAllows(onInCategory, 'email', billing)).toBe(true);
    expect(preferenceAllows(onInCategory, 'email', digest)).toBe(false);
  });

  it("unset falls back to the category's defaultChannels, then to on; the person's channel choice comes first", () => {
    expect(preferenceAllows(undefined, 'sms', digest)).toBe(false);
    expect(preferenceAllows(undefined, 'email', digest)).toBe(true);
    expect(preferenceAllows(undefined, 'push', digest)).toBe(true);
    expect(preferenceAllows(prefs({ channels: { sms: true } }), 'sms', digest)).toBe(true);
    expect(preferenceAllows(prefs({ channels: { email: false } }), 'email', digest)).toBe(false);
  });

  it('a critical category is always sent, whatever the preferences say', () => {
    const p = prefs({ channels: { email: false, sms: false }, categories: { security: { email: false } } });
    expect(preferenceAllows(p, 'email', security)).toBe(true);
    expect(preferenceExclusion(p, 'sms', security)).toBeUndefined();
  });

  it('a category key never reads inherited properties', () => {
    const inherited: CategoryRules = { key: 'constructor', critical: false, defaultChannels: {} };
    expect(preferenceAllows(prefs({}), 'email', inherited)).toBe(true);
  });
});

describe('preference issues', () => {
  const known = new Map([billing, security].map((category) => [category.key, category]));

  it('names the path of a channel turned off in a critical category, and of an unknown category', () => {
    const issues = preferenceIssues(prefs({ categories: { security: { email: false, sms: true }, billing: { sms: false }, nope: { email: true } } }), known);
    expect(issues).toEqual([
      { field: 'categories.security.email', message: 'security is a critical category: its messages cannot be turned off' },
      { field: 'categories.nope', message: 'there is no category nope (GET /v1/categories lists them)' },
    ]);
  });

  it('takes channels turned off globally, and a critical category turned on', () => {
    expect(preferenceIssues(prefs({ channels: { email: false }, categories: { security: { email: true } } }), known)).toEqual([]);
  });

  it("drops a deleted category's settings", () => {
    expect(withKnownCategories(prefs({ categories: { billing: { sms: false }, gone: { email: false } } }), new Set(['billing'])).categories).toEqual({
      billing: { sms: false },
    });
  });

  it('category keys are slugs', () => {
    for (const key of ['billing', 'product-updates', 'a', 'x_1']) expect(CATEGORY_KEY_PATTERN.test(key), key).toBe(true);
    for (const key of ['', 'Billing', '-x', 'x-', '__proto__', 'a b', 'a:b', 'x'.repeat(65)]) expect(CATEGORY_KEY_PATTERN.test(key), key).toBe(false);
  });
});

describe("the hosted page's form", () => {
  const at = '2026-12-01T00:00:00Z';
  const categories: Category[] = [
    { ...billing, name: 'Billing', createdAt: at, updatedAt: at },
    { ...security, name: 'Security', createdAt: at, updatedAt: at },
  ];

  it('shows every channel and every non-critical category toggle, as the decision would', () => {
    const shown = toggles(prefs({ channels: { sms: false }, categories: { billing: { email: false } } }), categories);
    expect(Object.fromEntries(shown)).toEqual({
      'channel:email': true,
      'channel:sms': false,
      'channel:push': true,
      'channel:inApp': true,
      'channel:chat': true,
      'channel:whatsapp': true,
      'category:billing:email': false,
      'category:billing:sms': false,
      'category:billing:push': true,
      'category:billing:inApp': true,
      'category:billing:chat': true,
      'category:billing:whatsapp': true,
    });
    expect(decodeShown(encodeShown(shown))).toEqual(shown);
  });

  it('changes only what the person changed; unknown names and critical categories are ignored', () => {
    const shown = toggles(NO_PREFERENCES, categories);
    const checked = new Set([...shown.keys()].filter((name) => name !== 'channel:sms' && name !== 'category:billing:push'));
    checked.add('category:security:email');
    const tampered = new Map([...shown, ['category:security:email', false], ['category:nope:email', true]]);
    expect(changesOf(tampered, checked, categories)).toEqual({ channels: { sms: false }, categories: { billing: { push: false } } });
    expect(changesOf(shown, new Set(shown.keys()), categories)).toEqual({ channels: {}, categories: {} });
  });
});
