import { z } from '@hono/zod-openapi';
import { canonicalLocale, DEFAULT_LOCALE } from '../../domain/locale';

const NOT_A_TAG = 'must be a BCP 47 language tag, such as fr, pt-BR or zh-Hant-TW';

/** A BCP 47 language tag, answered in its canonical form (`pt-br` → `pt-BR`). */
export const localeTag = () =>
  z
    .string()
    .max(64)
    .refine((tag) => canonicalLocale(tag) !== undefined, NOT_A_TAG)
    .transform((tag) => canonicalLocale(tag)!);

export const MAX_TRANSLATIONS = 100;

/**
 * A channel's content in one language (`variant`) or in several:
 * `{default: variant, translations?: {"<BCP 47 tag>": variant}}`. Translation tags are validated
 * and canonicalised; two tags that name the same locale are refused.
 */
export function localizedContent<V extends z.ZodType<object>>(variant: V, name: string) {
  const multilingual = z
    .object({
      default: variant,
      translations: z
        .record(z.string().max(64), variant)
        .optional()
        .openapi({
          description: `Variants by BCP 47 language tag. A recipient gets the one of their profile's locale, else of each shorter tag in turn (pt-BR → pt), else default. At most ${MAX_TRANSLATIONS}.`,
        }),
    })
    .strict()
    .superRefine((content, ctx) => {
      const tags = Object.keys(content.translations ?? {});
      if (tags.length > MAX_TRANSLATIONS) ctx.addIssue({ code: 'custom', path: ['translations'], message: `at most ${MAX_TRANSLATIONS} translations` });
      const seen = new Map<string, string>();
      for (const tag of tags) {
        const canonical = canonicalLocale(tag);
        if (canonical === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['translations', tag],
            message: tag.toLowerCase() === DEFAULT_LOCALE ? 'default is not a translation; put it in content.default' : NOT_A_TAG,
          });
        } else if (seen.has(canonical)) {
          ctx.addIssue({ code: 'custom', path: ['translations', tag], message: `${tag} and ${seen.get(canonical)} are the same locale (${canonical})` });
        } else {
          seen.set(canonical, tag);
        }
      }
    })
    .transform((content) =>
      content.translations === undefined
        ? content
        : { ...content, translations: Object.fromEntries(Object.entries(content.translations).map(([tag, value]) => [canonicalLocale(tag)!, value])) },
    )
    .openapi(`Multilingual${name}Content`, { description: 'A default variant and translations by BCP 47 language tag.' });
  const content = z.union([variant, multilingual]).openapi(`${name}CampaignContent`, {
    description: `Either one variant (${name}Content), which is the default alone, or {default, translations}.`,
  });
  // Translations next to a flat variant would parse as the flat form and be dropped in silence.
  return z.preprocess((value, ctx) => {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, 'translations') && !Object.hasOwn(value, 'default')) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'content with translations needs its default variant in content.default', input: value });
    }
    return value;
  }, content);
}
