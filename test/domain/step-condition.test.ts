import { describe, expect, it } from 'vitest';
import type { StepCondition } from '../../src/domain/campaign-steps';
import { evaluateStepConditions, type ConditionSubject } from '../../src/domain/step-condition';

const profile = {
  attributes: {
    plan: { tier: 'pro', seats: 12 },
    age: 30,
    ageText: '30',
    ratio: 0.5,
    vip: true,
    optIn: false,
    nickname: null,
    country: 'FR',
    tags: ['beta', 7, true],
    bio: 'likes ☕ and trains',
    emoji: '\u{1F600}',
    // JSON.parse('{"__proto__": …}') makes an own key named __proto__.
    ...JSON.parse('{"__proto__": "own"}'),
  },
  consents: { email: 'in', sms: 'out' },
  locale: 'fr-CA',
};
const subject: ConditionSubject = {
  profile,
  context: { cart: { total: 75, currency: 'EUR', items: ['book', 'pen'] }, coupon: '', count: '3' },
  outcomes: { welcome: 'opened', reminder: 'failed', skipped: undefined },
};

const holds = (condition: StepCondition, on: ConditionSubject = subject) => evaluateStepConditions([condition], on);
/** A condition with a shape its type forbids, as stored JSON might hold it. */
const odd = (condition: unknown) => condition as StepCondition;

describe('condition steps', () => {
  it('holds when every condition of where holds, and for an empty where', () => {
    expect(evaluateStepConditions([], subject)).toBe(true);
    expect(
      evaluateStepConditions(
        [
          { attribute: 'country', op: 'eq', value: 'FR' },
          { consent: 'email', op: 'eq', value: 'in' },
        ],
        subject,
      ),
    ).toBe(true);
    expect(
      evaluateStepConditions(
        [
          { attribute: 'country', op: 'eq', value: 'FR' },
          { consent: 'sms', op: 'eq', value: 'in' },
        ],
        subject,
      ),
    ).toBe(false);
  });

  it('compares attributes of their own JSON type only', () => {
    expect(holds({ attribute: 'age', op: 'eq', value: 30 })).toBe(true);
    expect(holds({ attribute: 'age', op: 'eq', value: '30' })).toBe(false);
    expect(holds({ attribute: 'ageText', op: 'eq', value: 30 })).toBe(false);
    expect(holds({ attribute: 'ageText', op: 'eq', value: '30' })).toBe(true);
    expect(holds({ attribute: 'vip', op: 'eq', value: true })).toBe(true);
    expect(holds({ attribute: 'vip', op: 'eq', value: 1 })).toBe(false);
    expect(holds({ attribute: 'optIn', op: 'eq', value: false })).toBe(true);
    expect(holds({ attribute: 'optIn', op: 'eq', value: 0 })).toBe(false);
    expect(holds({ attribute: 'country', op: 'eq', value: 'fr' })).toBe(false);
    expect(holds({ attribute: 'age', op: 'neq', value: '30' })).toBe(true);
    expect(holds({ attribute: 'age', op: 'neq', value: 30 })).toBe(false);
  });

  it('walks dotted paths into nested objects', () => {
    expect(holds({ attribute: 'plan.tier', op: 'eq', value: 'pro' })).toBe(true);
    expect(holds({ attribute: 'plan.seats', op: 'gte', value: 10 })).toBe(true);
    expect(holds({ attribute: 'plan.tier.name', op: 'exists' })).toBe(false);
    expect(holds({ attribute: 'plan.missing', op: 'notExists' })).toBe(true);
    // An array is not walked into: a key never reads as an index.
    expect(holds({ attribute: 'tags.length', op: 'exists' })).toBe(false);
    expect(holds({ attribute: 'tags.length', op: 'neq', value: 3 })).toBe(true);
  });

  it('takes in and notIn as one of the values, each of its own type', () => {
    expect(holds({ attribute: 'country', op: 'in', value: ['BE', 'FR'] })).toBe(true);
    expect(holds({ attribute: 'age', op: 'in', value: ['30', 31] })).toBe(false);
    expect(holds({ attribute: 'age', op: 'in', value: ['30', 30] })).toBe(true);
    expect(holds({ attribute: 'vip', op: 'in', value: [1, 'true', true] })).toBe(true);
    expect(holds({ attribute: 'vip', op: 'in', value: [1, 'true'] })).toBe(false);
    expect(holds({ attribute: 'country', op: 'notIn', value: ['BE', 'DE'] })).toBe(true);
    expect(holds({ attribute: 'country', op: 'notIn', value: ['FR'] })).toBe(false);
  });

  it('orders numbers with numbers and strings with strings, by code point', () => {
    expect(holds({ attribute: 'age', op: 'gt', value: 29 })).toBe(true);
    expect(holds({ attribute: 'age', op: 'gt', value: 30 })).toBe(false);
    expect(holds({ attribute: 'age', op: 'gte', value: 30 })).toBe(true);
    expect(holds({ attribute: 'age', op: 'lt', value: 30.5 })).toBe(true);
    expect(holds({ attribute: 'age', op: 'lte', value: 29 })).toBe(false);
    expect(holds({ attribute: 'ratio', op: 'lt', value: 1 })).toBe(true);
    // Another type never compares, either way.
    expect(holds({ attribute: 'age', op: 'gt', value: '1' })).toBe(false);
    expect(holds({ attribute: 'age', op: 'lt', value: '99' })).toBe(false);
    expect(holds({ attribute: 'ageText', op: 'gt', value: 1 })).toBe(false);
    expect(holds({ attribute: 'vip', op: 'gte', value: 0 })).toBe(false);
    expect(holds({ attribute: 'nickname', op: 'lt', value: 1 })).toBe(false);
    // Strings: "FR" > "BE", "Z" < "a" (code points, not a locale's collation), "10" < "9".
    expect(holds({ attribute: 'country', op: 'gt', value: 'BE' })).toBe(true);
    expect(holds({ attribute: 'country', op: 'lt', value: 'a' })).toBe(true);
    expect(holds({ attribute: 'ageText', op: 'lt', value: '4' })).toBe(true);
    expect(holds({ attribute: 'country', op: 'gte', value: 'FR' })).toBe(true);
    expect(holds({ attribute: 'country', op: 'lte', value: 'FR' })).toBe(true);
    // U+1F600 is above U+FFFF by code point, though its UTF-16 form sorts below U+E000.
    expect(holds({ attribute: 'emoji', op: 'gt', value: '\uFFFF' })).toBe(true);
    expect(holds({ attribute: 'emoji', op: 'gt', value: '\uE000' })).toBe(true);
    expect(holds({ attribute: 'emoji', op: 'lt', value: '\u{1F601}' })).toBe(true);
    expect(holds({ attribute: 'emoji', op: 'gt', value: '\u{1F600}' })).toBe(false);
  });

  it('finds a substring of a string or an element of an array', () => {
    expect(holds({ attribute: 'bio', op: 'contains', value: '☕' })).toBe(true);
    expect(holds({ attribute: 'bio', op: 'contains', value: 'Trains' })).toBe(false);
    expect(holds({ attribute: 'bio', op: 'contains', value: '' })).toBe(true);
    expect(holds({ attribute: 'tags', op: 'contains', value: 'beta' })).toBe(true);
    expect(holds({ attribute: 'tags', op: 'contains', value: 'bet' })).toBe(false);
    expect(holds({ attribute: 'tags', op: 'contains', value: 7 })).toBe(true);
    expect(holds({ attribute: 'tags', op: 'contains', value: '7' })).toBe(false);
    expect(holds({ attribute: 'tags', op: 'contains', value: true })).toBe(true);
    expect(holds({ attribute: 'tags', op: 'contains', value: false })).toBe(false);
    // A number is no string to search in.
    expect(holds({ attribute: 'age', op: 'contains', value: 3 })).toBe(false);
    expect(holds({ attribute: 'age', op: 'contains', value: '3' })).toBe(false);
  });

  it('takes a missing or null attribute as not there: only neq, notIn and notExists hold', () => {
    for (const attribute of ['missing', 'nickname', 'plan.missing.deeper']) {
      expect(holds({ attribute, op: 'exists' }), attribute).toBe(false);
      expect(holds({ attribute, op: 'notExists' }), attribute).toBe(true);
      expect(holds({ attribute, op: 'eq', value: 'x' }), attribute).toBe(false);
      expect(holds({ attribute, op: 'neq', value: 'x' }), attribute).toBe(true);
      expect(holds({ attribute, op: 'in', value: ['x'] }), attribute).toBe(false);
      expect(holds({ attribute, op: 'notIn', value: ['x'] }), attribute).toBe(true);
      expect(holds({ attribute, op: 'gt', value: 0 }), attribute).toBe(false);
      expect(holds({ attribute, op: 'contains', value: 'x' }), attribute).toBe(false);
    }
    expect(holds({ attribute: 'optIn', op: 'exists' })).toBe(true);
    expect(holds({ attribute: 'tags', op: 'exists' })).toBe(true);
  });

  it('reads consents as stored, in or out, unset when absent', () => {
    expect(holds({ consent: 'email', op: 'eq', value: 'in' })).toBe(true);
    expect(holds({ consent: 'email', op: 'neq', value: 'in' })).toBe(false);
    expect(holds({ consent: 'sms', op: 'eq', value: 'out' })).toBe(true);
    expect(holds({ consent: 'sms', op: 'exists' })).toBe(true);
    expect(holds({ consent: 'push', op: 'exists' })).toBe(false);
    expect(holds({ consent: 'push', op: 'notExists' })).toBe(true);
    expect(holds({ consent: 'push', op: 'eq', value: 'in' })).toBe(false);
    expect(holds({ consent: 'push', op: 'neq', value: 'in' })).toBe(true);
    // A consent is not ordered or searched.
    expect(holds(odd({ consent: 'email', op: 'contains', value: 'i' }))).toBe(false);
  });

  it('matches locales by RFC 4647 basic filtering', () => {
    expect(holds({ locale: ['fr'] })).toBe(true);
    expect(holds({ locale: ['fr-CA'] })).toBe(true);
    expect(holds({ locale: ['de', 'fr'] })).toBe(true);
    expect(holds({ locale: ['fr-FR'] })).toBe(false);
    expect(holds({ locale: ['fr-CA-x'] })).toBe(false);
    expect(holds({ locale: ['f'] })).toBe(false);
    // Tags are canonical (the schema canonicalises them), compared as they are.
    expect(holds({ locale: ['FR'] })).toBe(false);
    expect(holds({ locale: ['*'] })).toBe(true);
    expect(holds({ locale: ['de', '*'] })).toBe(true);
    const noLocale = { ...subject, profile: { ...profile, locale: null } };
    expect(holds({ locale: ['*'] }, noLocale)).toBe(false);
    expect(holds({ not: { locale: ['fr'] } }, noLocale)).toBe(true);
  });

  it('judges a recipient without a profile as a profile without attributes, consents or locale', () => {
    const noProfile: ConditionSubject = { context: {}, outcomes: {} };
    expect(holds({ attribute: 'country', op: 'eq', value: 'FR' }, noProfile)).toBe(false);
    expect(holds({ attribute: 'country', op: 'neq', value: 'FR' }, noProfile)).toBe(true);
    expect(holds({ attribute: 'country', op: 'notIn', value: ['FR'] }, noProfile)).toBe(true);
    expect(holds({ attribute: 'country', op: 'notExists' }, noProfile)).toBe(true);
    expect(holds({ consent: 'email', op: 'eq', value: 'in' }, noProfile)).toBe(false);
    expect(holds({ consent: 'email', op: 'neq', value: 'in' }, noProfile)).toBe(true);
    expect(holds({ consent: 'email', op: 'notExists' }, noProfile)).toBe(true);
    expect(holds({ locale: ['*'] }, noProfile)).toBe(false);
    expect(holds({ not: { locale: ['*'] } }, noProfile)).toBe(true);
  });

  it('tests the trigger context with the same operators and typing', () => {
    expect(holds({ context: 'cart.total', op: 'gte', value: 50 })).toBe(true);
    expect(holds({ context: 'cart.total', op: 'gte', value: 100 })).toBe(false);
    expect(holds({ context: 'cart.total', op: 'eq', value: '75' })).toBe(false);
    expect(holds({ context: 'cart.currency', op: 'in', value: ['EUR', 'USD'] })).toBe(true);
    expect(holds({ context: 'cart.items', op: 'contains', value: 'pen' })).toBe(true);
    expect(holds({ context: 'count', op: 'gt', value: 2 })).toBe(false);
    expect(holds({ context: 'count', op: 'gt', value: '2' })).toBe(true);
    // An empty string is present.
    expect(holds({ context: 'coupon', op: 'exists' })).toBe(true);
    expect(holds({ context: 'cart.discount', op: 'notExists' })).toBe(true);
    expect(holds({ context: 'cart.discount', op: 'neq', value: 0 })).toBe(true);
    expect(holds({ context: 'cart.discount', op: 'lt', value: 10 })).toBe(false);
    // Context conditions read the context, never the profile, and the other way round.
    expect(holds({ context: 'country', op: 'exists' })).toBe(false);
    expect(holds({ attribute: 'cart.total', op: 'exists' })).toBe(false);
  });

  it("tests an earlier send step's outcome; one that never came equals nothing", () => {
    expect(holds({ step: 'welcome', op: 'eq', value: 'opened' })).toBe(true);
    expect(holds({ step: 'welcome', op: 'eq', value: 'clicked' })).toBe(false);
    expect(holds({ step: 'welcome', op: 'neq', value: 'clicked' })).toBe(true);
    expect(holds({ step: 'welcome', op: 'neq', value: 'opened' })).toBe(false);
    expect(holds({ step: 'welcome', op: 'in', value: ['opened', 'clicked'] })).toBe(true);
    expect(holds({ step: 'reminder', op: 'in', value: ['opened', 'clicked'] })).toBe(false);
    expect(holds({ step: 'reminder', op: 'notIn', value: ['sent', 'delivered'] })).toBe(true);
    expect(holds({ step: 'reminder', op: 'notIn', value: ['failed', 'excluded'] })).toBe(false);
    for (const step of ['skipped', 'neverRan']) {
      expect(holds({ step, op: 'eq', value: 'sent' }), step).toBe(false);
      expect(holds({ step, op: 'in', value: ['sent', 'failed', 'excluded'] }), step).toBe(false);
      expect(holds({ step, op: 'neq', value: 'sent' }), step).toBe(true);
      expect(holds({ step, op: 'notIn', value: ['sent'] }), step).toBe(true);
    }
  });

  it('groups conditions with and, or and not, nested', () => {
    const pro = { attribute: 'plan.tier', op: 'eq', value: 'pro' } as const;
    const free = { attribute: 'plan.tier', op: 'eq', value: 'free' } as const;
    const opened = { step: 'welcome', op: 'eq', value: 'opened' } as const;
    expect(holds({ and: [pro, opened] })).toBe(true);
    expect(holds({ and: [pro, free] })).toBe(false);
    expect(holds({ or: [free, opened] })).toBe(true);
    expect(holds({ or: [free, { not: pro }] })).toBe(false);
    expect(holds({ not: free })).toBe(true);
    expect(holds({ not: { not: pro } })).toBe(true);
    expect(holds({ and: [] })).toBe(true);
    expect(holds({ or: [] })).toBe(false);
    expect(holds({ or: [{ and: [free, opened] }, { and: [pro, { context: 'cart.total', op: 'gt', value: 50 }, { not: { locale: ['de'] } }] }] })).toBe(true);
  });

  it('never reaches inherited properties', () => {
    const prototypeKeys = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'prototype'];
    for (const key of prototypeKeys) {
      const empty: ConditionSubject = { profile: { attributes: {}, consents: {} }, context: {}, outcomes: {} };
      expect(holds({ attribute: key, op: 'exists' }, empty), key).toBe(false);
      expect(holds({ attribute: `${key}.name`, op: 'exists' }, empty), key).toBe(false);
      expect(holds({ attribute: key, op: 'notExists' }, empty), key).toBe(true);
      expect(holds({ context: `${key}.name`, op: 'eq', value: 'Object' }, empty), key).toBe(false);
      expect(holds({ context: key, op: 'neq', value: 'x' }, empty), key).toBe(true);
      expect(holds(odd({ consent: key, op: 'exists' }), empty), key).toBe(false);
      expect(holds(odd({ step: key, op: 'neq', value: 'sent' }), empty), key).toBe(true);
      expect(holds(odd({ step: key, op: 'eq', value: 'sent' }), empty), key).toBe(false);
      expect(holds({ attribute: 'tags.constructor', op: 'exists' }), key).toBe(false);
    }
    // An own key of that name is an attribute like any other.
    expect(holds({ attribute: '__proto__', op: 'eq', value: 'own' })).toBe(true);
    // A condition's own discriminant only: an inherited `attribute` does not make one.
    const inherited = Object.create({ attribute: 'country', op: 'eq', value: 'FR' });
    expect(holds(odd(inherited))).toBe(false);
  });

  it('never throws on input of another shape, and a condition it cannot read does not hold', () => {
    const strange: ConditionSubject = {
      profile: { attributes: ['a', 'b'] as never, consents: 'in' as never, locale: 42 as never },
      context: null as never,
      outcomes: 'sent' as never,
    };
    const conditions: unknown[] = [
      { attribute: 'a', op: 'eq', value: 'a' },
      { attribute: 'a', op: 'neq', value: 'a' },
      { attribute: 'length', op: 'exists' },
      { consent: 'email', op: 'exists' },
      { locale: ['*'] },
      { context: 'x', op: 'exists' },
      { step: 'x', op: 'eq', value: 'sent' },
    ];
    expect(conditions.map((condition) => holds(odd(condition), strange))).toEqual([false, true, false, false, false, false, false]);
    for (const condition of [
      null,
      42,
      'attribute',
      [],
      {},
      { attribute: 42, op: 'eq', value: 1 },
      { attribute: 'age', op: 'like', value: 30 },
      { attribute: 'age', op: 'in', value: 30 },
      { attribute: 'age', op: 'eq', value: { n: 30 } },
      { attribute: 'age', op: 'eq', value: Number.NaN },
      { attribute: 'not a path', op: 'exists' },
      { attribute: '1st', op: 'exists' },
      { locale: 'fr' },
      { locale: [7] },
      { step: 7, op: 'eq', value: 'sent' },
      { step: 'welcome', op: 'in', value: 'opened' },
      { step: 'welcome', op: 'gt', value: 'opened' },
      { and: 'x' },
      { or: null },
    ]) {
      expect(holds(odd(condition)), JSON.stringify(condition)).toBe(false);
    }
    expect(evaluateStepConditions(null as never, subject)).toBe(false);
    expect(evaluateStepConditions([odd(null)], subject)).toBe(false);
    expect(evaluateStepConditions([{ attribute: 'age', op: 'eq', value: 30 }], null as never)).toBe(false);
    // Not a number as JSON stores it: NaN and Infinity are null there.
    const nan: ConditionSubject = { context: { n: Number.NaN, inf: Number.POSITIVE_INFINITY }, outcomes: {} };
    expect(holds({ context: 'n', op: 'exists' }, nan)).toBe(false);
    expect(holds({ context: 'inf', op: 'gt', value: 0 }, nan)).toBe(false);
  });

  it('refuses a where nested deeper than any valid one instead of overflowing the stack', () => {
    let deep: StepCondition = { attribute: 'age', op: 'eq', value: 30 };
    for (let level = 0; level < 100_000; level++) deep = { not: { not: deep } };
    expect(evaluateStepConditions([deep], subject)).toBe(false);
    let nested: StepCondition = { attribute: 'age', op: 'eq', value: 30 };
    for (let level = 0; level < 10; level++) nested = { and: [nested] };
    expect(evaluateStepConditions([nested], subject)).toBe(true);
  });
});
