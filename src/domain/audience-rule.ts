/**
 * Audiences and their rule language. Pure: the types, the limits and the checks that the API
 * schema (src/api/schemas/audience-rule.ts) and the SQL compiler
 * (src/repositories/audience-rule-sql.ts) share.
 *
 * A rule audience is `{type: "rule", where: [condition, ...]}`: a profile of the audience's
 * namespace is a member when every condition holds. A condition is one of
 *
 * - `{attribute: "plan.tier", op, value?}`: a profile attribute; dots walk into nested objects.
 * - `{consent: "email", op, value?}`: a channel's consent, `in` or `out` (unset when absent).
 * - `{locale: ["fr", "pt-BR"]}`: the profile's locale is one of the tags or more specific than
 *   one (RFC 4647 basic filtering: `fr` matches `fr-CA`); `["*"]` matches any known locale.
 * - `{and: [...]}`, `{or: [...]}`, `{not: condition}`.
 *
 * Values are typed, as in JSON: a number never equals a string (`30` is not `"30"`), and
 * `gt`/`gte`/`lt`/`lte` compare numbers with numbers and strings with strings (by code point);
 * an attribute of another type does not match. `neq` and `notIn` are exactly `not eq` and
 * `not in`: they also match profiles that lack the attribute.
 */
import { CHANNELS, type Channel } from './channel-content';

export type AudienceScalar = string | number | boolean;

export const ATTRIBUTE_OPS = ['eq', 'neq', 'in', 'notIn', 'exists', 'notExists', 'gt', 'gte', 'lt', 'lte', 'contains'] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];

export const CONSENT_OPS = ['eq', 'neq', 'exists', 'notExists'] as const;
export type ConsentOp = (typeof CONSENT_OPS)[number];

export const CONSENT_VALUES = ['in', 'out'] as const;
export type ConsentStatus = (typeof CONSENT_VALUES)[number];

export type AttributeCondition =
  | { attribute: string; op: 'eq' | 'neq' | 'contains'; value: AudienceScalar }
  | { attribute: string; op: 'gt' | 'gte' | 'lt' | 'lte'; value: string | number }
  | { attribute: string; op: 'in' | 'notIn'; value: AudienceScalar[] }
  | { attribute: string; op: 'exists' | 'notExists' };

export type ConsentCondition = { consent: Channel; op: 'eq' | 'neq'; value: ConsentStatus } | { consent: Channel; op: 'exists' | 'notExists' };

export interface LocaleCondition {
  locale: string[];
}

export type AudienceCondition =
  | AttributeCondition
  | ConsentCondition
  | LocaleCondition
  | { and: AudienceCondition[] }
  | { or: AudienceCondition[] }
  | { not: AudienceCondition };

export type AudienceDefinition = { type: 'rule'; where: AudienceCondition[] } | { type: 'static' };
export type AudienceType = AudienceDefinition['type'];

export { CHANNELS as CONSENT_CHANNELS };

/** Conditions in one rule, groups (`and`, `or`, `not`) included: a rule is a query, not a program. */
export const MAX_RULE_CONDITIONS = 50;
/** Levels of `and`/`or`/`not` inside `where`; `where` itself is level 0. */
export const MAX_RULE_NESTING = 5;
/** Values in one `in`/`notIn` list, and tags in one `locale` condition. */
export const MAX_IN_VALUES = 1000;
/** Characters in a string value. */
export const MAX_VALUE_LENGTH = 1024;
/** Characters in an attribute path, and segments (nesting levels) in it. */
export const MAX_ATTRIBUTE_LENGTH = 255;
export const MAX_ATTRIBUTE_SEGMENTS = 8;

/**
 * One key of an attribute path: a letter or `_`, then letters, digits, `_` or `-`. Starting
 * with a letter keeps a segment from reading as an array index, which PostgreSQL's path
 * operators would follow and SQLite's would not; keys with other characters cannot be queried.
 */
export const ATTRIBUTE_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The keys of a valid attribute path (`plan.tier` → `['plan', 'tier']`), or undefined. */
export function attributePath(attribute: string): string[] | undefined {
  if (attribute.length === 0 || attribute.length > MAX_ATTRIBUTE_LENGTH) return undefined;
  const segments = attribute.split('.');
  if (segments.length > MAX_ATTRIBUTE_SEGMENTS || !segments.every((segment) => ATTRIBUTE_SEGMENT.test(segment))) return undefined;
  return segments;
}

export const isAttributeCondition = (c: AudienceCondition): c is AttributeCondition => 'attribute' in c;
export const isConsentCondition = (c: AudienceCondition): c is ConsentCondition => 'consent' in c;
export const isLocaleCondition = (c: AudienceCondition): c is LocaleCondition => 'locale' in c;

export interface RuleIssue {
  /** Where in the definition, e.g. `where.2.or.0`. */
  field: string;
  message: string;
}

/**
 * Checks the size limits of a definition whose shape is unknown yet, without ever descending
 * further than MAX_RULE_NESTING + 1 levels: the API runs it before the recursive schema, so a
 * body nested thousands of levels deep is refused here rather than overflowing the stack.
 */
export function ruleSizeIssues(definition: unknown): RuleIssue[] {
  if (definition === null || typeof definition !== 'object') return [];
  const where = (definition as { where?: unknown }).where;
  if (!Array.isArray(where)) return [];
  const issues: RuleIssue[] = [];
  let count = 0;
  let tooDeep: string | undefined;
  const visit = (condition: unknown, field: string, depth: number): void => {
    count += 1;
    if (count > MAX_RULE_CONDITIONS + 1 || condition === null || typeof condition !== 'object' || Array.isArray(condition)) return;
    const children = groupChildren(condition as Record<string, unknown>);
    if (children.length === 0) return;
    if (depth >= MAX_RULE_NESTING) {
      tooDeep ??= field;
      return;
    }
    for (const [key, child] of children) visit(child, `${field}.${key}`, depth + 1);
  };
  for (const [index, condition] of where.slice(0, MAX_RULE_CONDITIONS + 1).entries()) visit(condition, `where.${index}`, 0);
  if (count > MAX_RULE_CONDITIONS || where.length > MAX_RULE_CONDITIONS)
    issues.push({ field: 'where', message: `a rule holds at most ${MAX_RULE_CONDITIONS} conditions, groups included` });
  if (tooDeep) issues.push({ field: tooDeep, message: `groups (and, or, not) nest at most ${MAX_RULE_NESTING} levels` });
  return issues;
}

/** The sub-conditions of a group (`and`, `or`: each element; `not`: its one condition), with their path keys. */
function groupChildren(condition: Record<string, unknown>): [string, unknown][] {
  const children: [string, unknown][] = [];
  for (const group of ['and', 'or'] as const) {
    const list = condition[group];
    if (Array.isArray(list)) for (const [index, child] of list.slice(0, MAX_RULE_CONDITIONS + 1).entries()) children.push([`${group}.${index}`, child]);
  }
  if ('not' in condition) children.push(['not', condition.not]);
  return children;
}

/** Whether a locale condition matches every profile whose locale is known (the tag `*`). */
export function localeMatchesAny(tags: string[]): boolean {
  return tags.includes('*');
}
