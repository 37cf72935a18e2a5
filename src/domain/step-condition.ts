/**
 * The `where` of a campaign's `condition` step (src/domain/campaign-steps.ts), decided for one
 * recipient in memory: a worker activity has the recipient's profile, the trigger's context and
 * the outcomes of the run's earlier send steps at hand, and asks whether the run goes on. Pure.
 *
 * Profile conditions (`attribute`, `consent`, `locale`) mean exactly what they mean in an audience
 * rule, which only the database evaluates (src/repositories/audience-rule-sql.ts over the typed
 * JSON tests of src/db/dialect.ts): test/domain/step-condition-sql-parity.test.ts holds the two
 * together. So values are typed as in JSON (`30` never equals `"30"`), `gt`/`gte`/`lt`/`lte`
 * compare numbers with numbers and strings with strings by code point, `contains` is a substring
 * of a string or an element of an array, `neq`/`notIn`/`notExists` are exactly the negations of
 * `eq`/`in`/`exists` and so hold where the value is missing. A recipient without a profile is
 * judged as a profile without attributes, consents or locale.
 *
 * Context conditions take the same operators on the trigger's context (the recipient's merged over
 * the shared one); step-outcome conditions compare an earlier send step's outcome, and a step that
 * did not run for the recipient has no outcome, which equals nothing.
 *
 * The input is stored JSON, so nothing here trusts its shape: it never throws, never reads an
 * inherited property (`constructor`, `__proto__`), and a condition it cannot read does not hold.
 */
import { attributePath, CONSENT_OPS, localeMatchesAny } from './audience-rule';
import type { SendOutcome, StepCondition } from './campaign-steps';

/** What a condition step is asked about, for one recipient. */
export interface ConditionSubject {
  /** Absent: no profile was found or created for the recipient. */
  profile?: { attributes: Record<string, unknown>; consents: Record<string, unknown>; locale?: string | null };
  /** The trigger's context, the recipient's own merged over the shared one. */
  context: Record<string, unknown>;
  /** The outcome of each earlier send step, by step id; undefined when it did not run for the recipient. */
  outcomes: Record<string, SendOutcome | undefined>;
}

/**
 * Levels of `and`/`or`/`not` evaluated, far above what a valid `where` holds (MAX_RULE_NESTING):
 * a deeper one is corrupt, and does not hold rather than overflowing the stack.
 */
const MAX_NESTING = 32;

/** Whether every condition holds for the subject, as in an audience rule's `where` (none: true). */
export function evaluateStepConditions(where: StepCondition[], subject: ConditionSubject): boolean {
  if (!Array.isArray(where) || !where.every((condition) => nestedWithin(condition, MAX_NESTING))) return false;
  const profile = isRecord(subject?.profile) ? subject.profile : undefined;
  const facts: Facts = {
    attributes: profile?.attributes,
    consents: profile?.consents,
    locale: profile?.locale,
    context: subject?.context,
    outcomes: subject?.outcomes,
  };
  return where.every((condition) => holds(condition, facts));
}

/** A consent takes only these (a consent is `in` or `out`: nothing to order or search in). */
const CONSENT_OPERATORS: readonly unknown[] = CONSENT_OPS;

/** The subject as read: any part may be missing or of another shape than its type says. */
interface Facts {
  attributes: unknown;
  consents: unknown;
  locale: unknown;
  context: unknown;
  outcomes: unknown;
}

function holds(condition: unknown, facts: Facts): boolean {
  if (!isRecord(condition)) return false;
  // In the SQL compiler's order, so that a condition with two discriminants (never valid) reads the same.
  if (Object.hasOwn(condition, 'attribute')) return valueHolds(valueAt(facts.attributes, pathOf(condition.attribute)), condition.op, condition.value);
  if (Object.hasOwn(condition, 'consent')) {
    const channel = condition.consent;
    if (!CONSENT_OPERATORS.includes(condition.op)) return false;
    return valueHolds(typeof channel === 'string' ? valueAt(facts.consents, [channel]) : undefined, condition.op, condition.value);
  }
  if (Object.hasOwn(condition, 'locale')) return localeHolds(facts.locale, condition.locale);
  if (Object.hasOwn(condition, 'context')) return valueHolds(valueAt(facts.context, pathOf(condition.context)), condition.op, condition.value);
  if (Object.hasOwn(condition, 'step')) return outcomeHolds(facts.outcomes, condition.step, condition.op, condition.value);
  if (Object.hasOwn(condition, 'and')) return Array.isArray(condition.and) && condition.and.every((child) => holds(child, facts));
  if (Object.hasOwn(condition, 'or')) return Array.isArray(condition.or) && condition.or.some((child) => holds(child, facts));
  if (Object.hasOwn(condition, 'not')) return !holds(condition.not, facts);
  return false;
}

/** Whether the condition's groups nest at most `levels` deep, looking no deeper than that. */
function nestedWithin(condition: unknown, levels: number): boolean {
  if (!isRecord(condition)) return true;
  const children = [
    ...(Object.hasOwn(condition, 'and') && Array.isArray(condition.and) ? condition.and : []),
    ...(Object.hasOwn(condition, 'or') && Array.isArray(condition.or) ? condition.or : []),
    ...(Object.hasOwn(condition, 'not') ? [condition.not] : []),
  ];
  return children.length === 0 || (levels > 0 && children.every((child) => nestedWithin(child, levels - 1)));
}

/** The keys of an attribute or context path; an invalid one (which the SQL compiler refuses) reaches nothing. */
const pathOf = (path: unknown): string[] | undefined => (typeof path === 'string' ? attributePath(path) : undefined);

/** The value at a path of own object keys; undefined when a key is missing or a value on the way is not an object (an array included). */
export function valueAt(root: unknown, path: readonly string[] | undefined): unknown {
  if (!path) return undefined;
  let value = root;
  for (const key of path) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** The operators of attribute, consent and context conditions, on the value found (undefined: missing). */
function valueHolds(actual: unknown, op: unknown, expected: unknown): boolean {
  switch (op) {
    case 'eq':
      return equals(actual, expected);
    case 'neq':
      return !equals(actual, expected);
    case 'in':
      return oneOf(actual, expected);
    case 'notIn':
      return !oneOf(actual, expected);
    case 'exists':
      return present(actual);
    case 'notExists':
      return !present(actual);
    case 'gt':
      return ordered(actual, expected, (order) => order > 0);
    case 'gte':
      return ordered(actual, expected, (order) => order >= 0);
    case 'lt':
      return ordered(actual, expected, (order) => order < 0);
    case 'lte':
      return ordered(actual, expected, (order) => order <= 0);
    case 'contains':
      return contains(actual, expected);
    default:
      return false;
  }
}

/** Present and not null, as JSON stores it (a number that is not finite is stored as null). */
const present = (value: unknown): boolean => value !== undefined && value !== null && !(typeof value === 'number' && !Number.isFinite(value));

/** A JSON scalar: a string, a finite number or a boolean. */
const isScalar = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** Of the same JSON type and equal (strictly: a number never equals a string, nor `true` 1). */
const equals = (actual: unknown, expected: unknown): boolean => isScalar(expected) && actual === expected;

const oneOf = (actual: unknown, expected: unknown): boolean => Array.isArray(expected) && expected.some((value) => equals(actual, value));

/** Numbers with numbers, strings with strings by code point; any other pair is not ordered, so every comparison is false. */
function ordered(actual: unknown, expected: unknown, test: (order: number) => boolean): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') return Number.isFinite(expected) && Number.isFinite(actual) && test(actual - expected);
  if (typeof expected === 'string' && typeof actual === 'string') return test(compareCodePoints(actual, expected));
  return false;
}

/**
 * Strings by Unicode code point, as SQLite (BINARY over UTF-8) and PostgreSQL (`collate "C"`) order
 * them. JavaScript's `<` orders UTF-16 code units instead, which puts U+10000 and above (surrogate
 * pairs) before U+E000 to U+FFFF. The first differing unit decides: when it starts a code point in
 * both strings, that code point does; when it is the second half of a pair the two share the first
 * half of, comparing the halves is comparing the code points.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    if (a.charCodeAt(index) !== b.charCodeAt(index)) return (a.codePointAt(index) ?? 0) - (b.codePointAt(index) ?? 0);
  }
  return a.length - b.length;
}

/** A string holding the string `expected`, or an array with an element equal to `expected` (typed, as `eq`). */
function contains(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') return actual.includes(expected);
  return Array.isArray(actual) && actual.some((element) => equals(element, expected));
}

/**
 * RFC 4647 basic filtering, as the SQL compiler does it on canonical tags (case-sensitive): `fr`
 * matches `fr` and `fr-…`, `*` any known locale; an unknown locale matches nothing.
 */
function localeHolds(locale: unknown, tags: unknown): boolean {
  if (typeof locale !== 'string' || !Array.isArray(tags)) return false;
  if (localeMatchesAny(tags)) return true;
  return tags.some((tag) => typeof tag === 'string' && (locale === tag || locale.startsWith(`${tag}-`)));
}

/** An earlier send step's outcome; one the recipient never got (the step did not run) equals nothing. */
function outcomeHolds(outcomes: unknown, step: unknown, op: unknown, expected: unknown): boolean {
  const outcome = typeof step === 'string' && isRecord(outcomes) && Object.hasOwn(outcomes, step) ? outcomes[step] : undefined;
  const known = typeof outcome === 'string';
  switch (op) {
    case 'eq':
      return known && outcome === expected;
    case 'neq':
      return !(known && outcome === expected);
    case 'in':
      return known && Array.isArray(expected) && expected.includes(outcome);
    case 'notIn':
      return !(known && Array.isArray(expected) && expected.includes(outcome));
    default:
      return false;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
