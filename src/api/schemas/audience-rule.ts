import { z } from '@hono/zod-openapi';
import {
  ATTRIBUTE_OPS,
  attributePath,
  type AttributeOp,
  CONSENT_CHANNELS,
  CONSENT_VALUES,
  MAX_ATTRIBUTE_LENGTH,
  MAX_ATTRIBUTE_SEGMENTS,
  MAX_IN_VALUES,
  MAX_RULE_CONDITIONS,
  MAX_RULE_NESTING,
  MAX_VALUE_LENGTH,
  ruleSizeIssues,
  type AudienceCondition,
  type AudienceDefinition,
} from '../../domain/audience-rule';
import { canonicalLocale } from '../../domain/locale';
import { safeText } from './safe-text';

const scalarString = safeText(0, MAX_VALUE_LENGTH);
const scalar = z.union([scalarString, z.number().finite(), z.boolean()]);

const attribute = z
  .string()
  .max(MAX_ATTRIBUTE_LENGTH)
  .refine((name) => attributePath(name) !== undefined, {
    message: `an attribute path: keys of letters, digits, _ and -, each starting with a letter or _, joined by dots (at most ${MAX_ATTRIBUTE_SEGMENTS})`,
  })
  .openapi({ description: 'The attribute, a dot-separated path into nested objects (`plan.tier`).', example: 'country' });

const ATTRIBUTE_DESCRIPTION = [
  'A profile attribute compared with `value`. Values are typed as in JSON: `30` never equals `"30"`.',
  '`eq`/`neq`: equal (same type and value) / not equal (also true when the attribute is missing).',
  `\`in\`/\`notIn\`: one of the values of a list (at most ${MAX_IN_VALUES}) / none of them (also true when missing).`,
  '`exists`/`notExists`: present and not null / missing or null.',
  '`gt`/`gte`/`lt`/`lte`: numbers compare with numbers, strings with strings (by Unicode code point); an attribute of another type does not match.',
  '`contains`: a string attribute contains the string `value` (case-sensitive), or an array attribute has an element equal to `value`.',
].join(' ');

/** The value an attribute condition's op takes (also a step condition's on the trigger's context). */
export const attributeConditionValue = z.union([scalar, z.array(scalar).min(1).max(MAX_IN_VALUES)]).optional();

/** Whether `value` fits `op`: none, one scalar or a list; reported under `value`. */
export function checkAttributeConditionValue(condition: { op: AttributeOp; value?: unknown }, ctx: z.RefinementCtx): void {
  const { op, value } = condition;
  const problem = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], message });
  if (op === 'exists' || op === 'notExists') {
    if (value !== undefined) problem(`${op} takes no value`);
  } else if (op === 'in' || op === 'notIn') {
    if (!Array.isArray(value)) problem(`${op} takes a list of values`);
  } else if (value === undefined || Array.isArray(value)) {
    problem(`${op} takes one string, number or boolean`);
  } else if ((op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') && typeof value === 'boolean') {
    problem(`${op} compares numbers or strings, not booleans`);
  }
}

export const AttributeConditionSchema = z
  .object({
    attribute,
    op: z.enum(ATTRIBUTE_OPS),
    value: attributeConditionValue,
  })
  .strict()
  .superRefine(checkAttributeConditionValue)
  .openapi('AudienceAttributeCondition', { description: ATTRIBUTE_DESCRIPTION, example: { attribute: 'age', op: 'gte', value: 18 } });

export const ConsentConditionSchema = z
  .object({
    consent: z.enum(CONSENT_CHANNELS),
    op: z.enum(['eq', 'neq', 'exists', 'notExists']),
    value: z.enum(CONSENT_VALUES).optional(),
  })
  .strict()
  .superRefine((condition, ctx) => {
    const takesValue = condition.op === 'eq' || condition.op === 'neq';
    if (takesValue && condition.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${condition.op} takes "in" or "out"` });
    if (!takesValue && condition.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${condition.op} takes no value` });
  })
  .openapi('AudienceConsentCondition', {
    description: "A channel's consent: `eq`/`neq` `in` or `out` (neq is also true when unset); `exists`: given either way; `notExists`: never given.",
    example: { consent: 'email', op: 'eq', value: 'in' },
  });

const localeRange = z
  .string()
  .max(64)
  .refine((tag) => tag === '*' || canonicalLocale(tag) !== undefined, 'must be a BCP 47 language tag or *')
  .transform((tag) => (tag === '*' ? tag : canonicalLocale(tag)!));

export const LocaleConditionSchema = z
  .object({ locale: z.array(localeRange).min(1).max(MAX_IN_VALUES) })
  .strict()
  .openapi('AudienceLocaleCondition', {
    description:
      "The profile's locale is one of the tags or more specific than one (`fr` matches `fr`, `fr-FR` and `fr-CA`); `*` matches any known locale. A profile without a locale never matches.",
    example: { locale: ['fr', 'pt-BR'] },
  });

const conditionList = () => z.array(AudienceConditionSchema).min(1).max(MAX_RULE_CONDITIONS);

export const AudienceConditionSchema: z.ZodType<AudienceCondition> = z
  .lazy(() =>
    z.union([
      AttributeConditionSchema,
      ConsentConditionSchema,
      LocaleConditionSchema,
      z.object({ and: conditionList() }).strict().openapi({ description: 'Every condition holds.' }),
      z.object({ or: conditionList() }).strict().openapi({ description: 'At least one condition holds.' }),
      z.object({ not: AudienceConditionSchema }).strict().openapi({ description: 'The condition does not hold.' }),
    ]),
  )
  .openapi('AudienceCondition') as z.ZodType<AudienceCondition>;

const RULE_DESCRIPTION = [
  'A rule audience: the profiles of the namespace for which every condition of `where` holds (an empty list: every profile).',
  'Evaluated by the database when asked (estimatedSize, an audience run), never stored as a member list.',
  `At most ${MAX_RULE_CONDITIONS} conditions in all (groups included), groups nested at most ${MAX_RULE_NESTING} levels.`,
].join(' ');

const RuleDefinitionSchema = z
  .object({ type: z.literal('rule'), where: z.array(AudienceConditionSchema).max(MAX_RULE_CONDITIONS) })
  .strict()
  .openapi('AudienceRuleDefinition', {
    description: RULE_DESCRIPTION,
    example: {
      type: 'rule',
      where: [
        { attribute: 'country', op: 'in', value: ['FR', 'BE'] },
        { consent: 'email', op: 'eq', value: 'in' },
        {
          or: [
            { attribute: 'plan', op: 'eq', value: 'pro' },
            { attribute: 'orders', op: 'gte', value: 3 },
          ],
        },
      ],
    },
  });

const StaticDefinitionSchema = z
  .object({ type: z.literal('static') })
  .strict()
  .openapi('AudienceStaticDefinition', { description: 'A static audience: the user ids added with POST /v1/audiences/{id}/members (NDJSON).' });

/**
 * The size limits are checked first, on the raw value, so that a body nested thousands of
 * levels deep is refused before the recursive schema walks it.
 */
export const AudienceDefinitionSchema = z.preprocess(
  (value, ctx) => {
    for (const issue of ruleSizeIssues(value))
      ctx.addIssue({
        code: 'custom',
        input: value,
        path: issue.field.split('.').map((key) => (/^\d+$/.test(key) ? Number(key) : key)),
        message: issue.message,
      });
    return value;
  },
  z.discriminatedUnion('type', [RuleDefinitionSchema, StaticDefinitionSchema]).openapi('AudienceDefinition'),
) as unknown as z.ZodType<AudienceDefinition>;
