import { describe, expect, it } from 'vitest';
import { canonicalLocale, contentVariants, localeFallbackChain, selectContentVariant } from '../../src/domain/locale';

const variant = (name: string) => ({ subject: name, html: `<p>${name}</p>` });

describe('locales', () => {
  it('canonicalises BCP 47 tags and refuses what is not one', () => {
    expect(canonicalLocale('pt-br')).toBe('pt-BR');
    expect(canonicalLocale('ZH-hant-tw')).toBe('zh-Hant-TW');
    expect(canonicalLocale('fr')).toBe('fr');
    for (const bad of ['', ' fr', 'fr ', 'not a tag', 'en_US', 'x', '123', 'default', 'fr--CA']) expect(canonicalLocale(bad), bad).toBeUndefined();
  });

  it('falls back from the exact tag through ever shorter subtags', () => {
    expect(localeFallbackChain('pt-BR')).toEqual(['pt-BR', 'pt']);
    expect(localeFallbackChain('zh-Hant-TW')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh']);
    expect(localeFallbackChain('de')).toEqual(['de']);
    expect(localeFallbackChain('de-DE-u-co-phonebk')).toEqual(['de-DE-u-co-phonebk', 'de-DE', 'de']);
    expect(localeFallbackChain('en-x-private')).toEqual(['en-x-private', 'en']);
  });

  it('chooses the variant of the exact tag, then of a shorter tag, then the default', () => {
    const content = { default: variant('en'), translations: { fr: variant('fr'), pt: variant('pt'), 'pt-BR': variant('pt-BR') } };
    expect(selectContentVariant(content, 'pt-BR')).toEqual({ locale: 'pt-BR', content: variant('pt-BR') });
    expect(selectContentVariant(content, 'pt-PT')).toEqual({ locale: 'pt', content: variant('pt') });
    expect(selectContentVariant(content, 'fr-CA')).toEqual({ locale: 'fr', content: variant('fr') });
    expect(selectContentVariant(content, 'de')).toEqual({ locale: 'default', content: variant('en') });
    expect(selectContentVariant(content, null)).toEqual({ locale: 'default', content: variant('en') });
    expect(selectContentVariant(content, undefined)).toEqual({ locale: 'default', content: variant('en') });
    // A shorter profile locale never picks a longer translation.
    expect(selectContentVariant({ default: variant('en'), translations: { 'pt-BR': variant('pt-BR') } }, 'pt')).toEqual({
      locale: 'default',
      content: variant('en'),
    });
    // Tags compare case-insensitively and answer the translation's own spelling.
    expect(selectContentVariant(content, 'PT-br').locale).toBe('pt-BR');
  });

  it('reads flat content as the default alone', () => {
    const flat = variant('only');
    expect(selectContentVariant(flat, 'fr')).toEqual({ locale: 'default', content: flat });
    expect(contentVariants(flat)).toEqual([{ locale: 'default', path: 'content', content: flat }]);
  });

  it('lists every variant with its path, the default first', () => {
    const content = { default: variant('en'), translations: { fr: variant('fr'), 'pt-BR': variant('pt-BR') } };
    expect(contentVariants(content).map(({ locale, path }) => ({ locale, path }))).toEqual([
      { locale: 'default', path: 'content.default' },
      { locale: 'fr', path: 'content.translations.fr' },
      { locale: 'pt-BR', path: 'content.translations.pt-BR' },
    ]);
    expect(contentVariants({ default: variant('en') })).toHaveLength(1);
  });
});
