/** The languages the API answers problems in; English unless the request prefers Vietnamese. */
export type Language = 'en' | 'vi';

export const DEFAULT_LANGUAGE: Language = 'en';
const LANGUAGES: readonly Language[] = ['vi', 'en'];

/** Longest `Accept-Language` read: a browser sends well under 200 characters. */
const MAX_HEADER_LENGTH = 1_024;
const RANGE = /^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/;
const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

interface Range {
  tag: string;
  q: number;
  order: number;
}

function parse(header: string): Range[] {
  const ranges: Range[] = [];
  header
    .slice(0, MAX_HEADER_LENGTH)
    .split(',')
    .forEach((item, order) => {
      const [rawTag, ...params] = item.split(';').map((p) => p.trim());
      const tag = (rawTag ?? '').toLowerCase();
      if (!RANGE.test(tag)) return;
      let q = 1;
      for (const param of params) {
        const [name, value] = param.split('=').map((p) => p.trim());
        if (name?.toLowerCase() !== 'q') continue;
        if (value === undefined || !QVALUE.test(value)) return;
        q = Number(value);
      }
      ranges.push({ tag, q, order });
    });
  return ranges;
}

/**
 * The language of a problem for an `Accept-Language` header (RFC 9110 §12.5.4): each language gets the
 * weight of the most specific range that names it (`vi-VN` names `vi`, as RFC 4647 lookup reads it),
 * or of `*`; the heaviest above 0 wins, a tie goes to the range listed first, and with none the answer
 * is English. Malformed ranges are ignored.
 */
export function negotiateLanguage(header: string | readonly string[] | undefined): Language {
  const text = typeof header === 'string' ? header : header?.join(',');
  if (!text) return DEFAULT_LANGUAGE;
  const ranges = parse(text);
  const wildcard = ranges.find((r) => r.tag === '*');
  let best: { language: Language; q: number; order: number } | undefined;
  for (const language of LANGUAGES) {
    const named = ranges
      .filter((r) => r.tag === language || r.tag.startsWith(`${language}-`))
      .sort((a, b) => a.tag.length - b.tag.length)
      .at(0);
    const range = named ?? wildcard;
    if (range === undefined || range.q <= 0) continue;
    // A wildcard speaks for every language alike: the server's default goes first.
    const order = named ? range.order : Number.MAX_SAFE_INTEGER - (language === DEFAULT_LANGUAGE ? 1 : 0);
    if (best === undefined || range.q > best.q || (range.q === best.q && order < best.order)) {
      best = { language, q: range.q, order };
    }
  }
  return best?.language ?? DEFAULT_LANGUAGE;
}

/**
 * The language of a request that Node's parser refused (its headers were never parsed): the first
 * `Accept-Language` line of the bytes received, if any.
 */
export function languageOfRawRequest(raw: Buffer | undefined): Language {
  if (raw === undefined) return DEFAULT_LANGUAGE;
  const match = /\r?\naccept-language:[ \t]*([^\r\n]*)/i.exec(raw.subarray(0, 16_384).toString('latin1'));
  return negotiateLanguage(match?.[1]);
}
