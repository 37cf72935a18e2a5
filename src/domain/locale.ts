/**
 * Locales and multilingual content. Everything here is pure and deterministic (it also runs in
 * the trigger workflow's bundle through recipient preparation), except `canonicalLocale`, which
 * is called only on save.
 */

/** The locale recorded on a delivery rendered from the content's default variant. */
export const DEFAULT_LOCALE = 'default';

/**
 * A BCP 47 language tag in its canonical form (`pt-br` → `pt-BR`, `zh-hant-tw` → `zh-Hant-TW`),
 * or undefined when it is not one.
 */
export function canonicalLocale(tag: string): string | undefined {
  if (tag.trim() !== tag || tag === '' || tag.toLowerCase() === DEFAULT_LOCALE) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical;
  } catch {
    return undefined;
  }
}

/**
 * The tags to try for a locale, most specific first: the exact tag, then progressively shorter
 * subtags (`zh-Hant-TW` → `zh-Hant` → `zh`). Extensions and private use (`-u-…`, `-x-…`) are
 * dropped before shortening, since they do not name a language variant of their own.
 */
export function localeFallbackChain(locale: string): string[] {
  const chain = [locale];
  const subtags = locale.split('-');
  const singleton = subtags.findIndex((subtag, i) => i > 0 && subtag.length === 1);
  let length = singleton === -1 ? subtags.length : singleton;
  if (length < subtags.length) chain.push(subtags.slice(0, length).join('-'));
  while (--length > 0) chain.push(subtags.slice(0, length).join('-'));
  return chain.filter((tag, i) => tag !== '' && chain.indexOf(tag) === i);
}

/** Content in several languages: a default variant and translations keyed by BCP 47 tag. */
export interface MultilingualContent<V> {
  default: V;
  translations?: Record<string, V>;
}

/** A channel's content as a campaign stores it: one variant alone (the form from before translations) or multilingual. */
export type LocalizedContent<V extends object> = V | MultilingualContent<V>;

export function isMultilingual<V extends object>(content: LocalizedContent<V>): content is MultilingualContent<V> {
  return Object.hasOwn(content, 'default');
}

/** One variant with where it sits in the campaign (for review messages) and its locale. */
export interface ContentVariant<V> {
  /** `default` or the translation's tag. */
  locale: string;
  /** The field path of the variant: `content`, `content.default` or `content.translations.<tag>`. */
  path: string;
  content: V;
}

/** Every variant of the content, the default first. */
export function contentVariants<V extends object>(content: LocalizedContent<V>): ContentVariant<V>[] {
  if (!isMultilingual(content)) return [{ locale: DEFAULT_LOCALE, path: 'content', content }];
  return [
    { locale: DEFAULT_LOCALE, path: 'content.default', content: content.default },
    ...Object.entries(content.translations ?? {}).map(([locale, variant]) => ({ locale, path: `content.translations.${locale}`, content: variant })),
  ];
}

/**
 * The variant for a recipient's locale: the translation with the exact tag, else the one of each
 * shorter tag in turn (`pt-BR` → `pt`), else the default. Tags compare case-insensitively.
 */
export function selectContentVariant<V extends object>(content: LocalizedContent<V>, locale: string | null | undefined): { locale: string; content: V } {
  if (!isMultilingual(content)) return { locale: DEFAULT_LOCALE, content };
  const translations = Object.entries(content.translations ?? {});
  if (locale && translations.length > 0) {
    for (const candidate of localeFallbackChain(locale)) {
      const match = translations.find(([tag]) => tag.toLowerCase() === candidate.toLowerCase());
      if (match) return { locale: match[0], content: match[1] };
    }
  }
  return { locale: DEFAULT_LOCALE, content: content.default };
}
