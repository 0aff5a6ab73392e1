import { CATALOGUE, LANGS, translator } from './i18n.js';

describe('console message catalogue', () => {
  it('has the same keys in every language', () => {
    const keys = (lang: (typeof LANGS)[number]) => Object.keys(CATALOGUE[lang]).sort();
    for (const lang of LANGS) expect(keys(lang)).toEqual(keys('vi'));
  });

  it('has no empty text, and the same placeholders in every language', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).sort();
    for (const lang of LANGS) {
      for (const [key, text] of Object.entries(CATALOGUE[lang])) {
        expect({ lang, key, empty: text.trim().length === 0 }).toEqual({ lang, key, empty: false });
        const vi = CATALOGUE.vi[key as keyof typeof CATALOGUE.vi];
        expect({ lang, key, placeholders: placeholders(text) }).toEqual({
          lang,
          key,
          placeholders: placeholders(vi),
        });
      }
    }
  });

  it('fills placeholders', () => {
    expect(translator('en')('run.summary', { total: 3, dossiers: 2 })).toBe('3 mismatches in 2 dossiers.');
    expect(translator('vi')('run.summary', { total: 3, dossiers: 2 })).toBe('3 sai lệch ở 2 hồ sơ.');
  });
});
