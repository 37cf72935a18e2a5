import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { queryableJson } from '../db/dialect';
import {
  attributePath,
  isAttributeCondition,
  isConsentCondition,
  isLocaleCondition,
  localeMatchesAny,
  type AttributeCondition,
  type AudienceCondition,
  type ConsentCondition,
} from '../domain/audience-rule';

/**
 * Compiles an audience rule to one SQL condition over a row of `profiles` (its `attributes`,
 * `consents` and `locale`), so that membership is decided by the database and no profile is
 * ever loaded to be tested. Every value and path is a bound parameter. Each leaf answers true
 * or false, never NULL (see QueryableJsonTests), so `not` is the exact opposite of its
 * condition and `neq`/`notIn` are `not eq`/`not in`.
 *
 * The rule is assumed valid (the API's schema checked its shape and limits); an attribute path
 * that is not valid anyway throws rather than reaching SQL.
 */
export function compileAudienceRule(db: Kysely<any>, where: AudienceCondition[]): RawBuilder<SqlBool> {
  const attributes = queryableJson(db, 'profiles.attributes');
  const consents = queryableJson(db, 'profiles.consents');

  const all = (conditions: AudienceCondition[]): RawBuilder<SqlBool> =>
    conditions.length === 0 ? sql<SqlBool>`(1 = 1)` : sql<SqlBool>`(${sql.join(conditions.map(compile), sql` and `)})`;

  const attribute = (condition: AttributeCondition): RawBuilder<SqlBool> => {
    const path = attributePath(condition.attribute);
    if (!path) throw new Error(`Not an attribute path: ${JSON.stringify(condition.attribute)}`);
    switch (condition.op) {
      case 'eq':
        return attributes.equals(path, condition.value);
      case 'neq':
        return negate(attributes.equals(path, condition.value));
      case 'in':
        return attributes.oneOf(path, condition.value);
      case 'notIn':
        return negate(attributes.oneOf(path, condition.value));
      case 'exists':
        return attributes.exists(path);
      case 'notExists':
        return negate(attributes.exists(path));
      case 'gt':
        return attributes.compare(path, '>', condition.value);
      case 'gte':
        return attributes.compare(path, '>=', condition.value);
      case 'lt':
        return attributes.compare(path, '<', condition.value);
      case 'lte':
        return attributes.compare(path, '<=', condition.value);
      case 'contains':
        return attributes.contains(path, condition.value);
    }
  };

  const consent = (condition: ConsentCondition): RawBuilder<SqlBool> => {
    const path = [condition.consent];
    switch (condition.op) {
      case 'eq':
        return consents.equals(path, condition.value);
      case 'neq':
        return negate(consents.equals(path, condition.value));
      case 'exists':
        return consents.exists(path);
      case 'notExists':
        return negate(consents.exists(path));
    }
  };

  /** RFC 4647 basic filtering on canonical tags: `fr` matches `fr` and `fr-…`, `*` any known locale. */
  const locale = (tags: string[]): RawBuilder<SqlBool> => {
    if (localeMatchesAny(tags)) return sql<SqlBool>`(profiles.locale is not null)`;
    const tests = [...new Set(tags)].map((tag) => sql`profiles.locale = ${tag} or substr(profiles.locale, 1, ${sql.lit(tag.length + 1)}) = ${`${tag}-`}`);
    return sql<SqlBool>`coalesce(${sql.join(tests, sql` or `)}, false)`;
  };

  const compile = (condition: AudienceCondition): RawBuilder<SqlBool> => {
    if (isAttributeCondition(condition)) return attribute(condition);
    if (isConsentCondition(condition)) return consent(condition);
    if (isLocaleCondition(condition)) return locale(condition.locale);
    if ('and' in condition) return all(condition.and);
    if ('or' in condition) return sql<SqlBool>`(${sql.join(condition.or.map(compile), sql` or `)})`;
    return negate(compile(condition.not));
  };

  return all(where);
}

const negate = (condition: RawBuilder<SqlBool>) => sql<SqlBool>`(not ${condition})`;
