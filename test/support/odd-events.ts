import fc from 'fast-check';
import { ANY_VERSION, type EventToAppend, type Extensions } from '#lgsp/event-store';

/**
 * Odd but valid Unicode a store must keep exactly: astral and joined emoji, NFD beside NFC, U+FFFD,
 * zero-width joiners and bidi marks, line and paragraph separators, control characters, a BOM, and
 * text that merely spells a surrogate escape.
 */
export const ODD_TEXT: readonly string[] = [
  '😀𝕏👩‍👩‍👧‍👦🏳️‍🌈',
  'Nguye\u0302\u0303n',
  'Nguyễn',
  '\ufffd',
  'a\u200db\u200cc',
  '\u200f\u202eمرحبا\u202c\u200e',
  'line\u2028para\u2029end',
  '\u0001\u001f\u007f\u0085\ufeff',
  '\\ud800 is six characters',
];

/** Numbers at the edges of what JSON and doubles hold. */
const ODD_NUMBERS = [1e21, 1.5e300, 0.1, 5e-324, 1.7976931348623157e308, 9007199254740991, -0, -1.25];

/** A piece of odd text: one of ODD_TEXT, any code point, or any grapheme (never a lone surrogate). */
const oddUnit = fc.oneof(
  fc.constantFrom(...ODD_TEXT),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);

const oddText = (maxLength: number) => fc.string({ unit: oddUnit, maxLength });
/** Attributes are stored as text, where U+0000 cannot go (see prepareEvents). */
const attributeText = (maxLength: number) => oddText(maxLength).map((s) => s.replaceAll('\u0000', '\ufffd'));

const oddData = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: oddUnit }) },
  { weight: 2, arbitrary: fc.dictionary(oddText(4), fc.oneof(oddText(8), fc.constantFrom(...ODD_NUMBERS))) },
  // Now and then one long string (about 100 KB of UTF-8).
  {
    weight: 1,
    arbitrary: fc.record({ long: oddText(4).map((s) => `${s}${ODD_TEXT.join('')}`.repeat(400)) }),
  },
);

const oddExtensions: fc.Arbitrary<Extensions> = fc.dictionary(
  oddText(4).filter((k) => k.length > 0),
  fc.oneof(oddText(8), fc.boolean(), fc.constantFrom(...ODD_NUMBERS)),
  { maxKeys: 3 },
);

const oddEvent = fc.record({
  id: attributeText(8),
  source: attributeText(6),
  type: attributeText(6),
  time: fc.option(attributeText(8), { nil: undefined }),
  subject: fc.option(attributeText(8), { nil: undefined }),
  datacontenttype: fc.option(attributeText(4), { nil: undefined }),
  dataschema: fc.option(attributeText(4), { nil: undefined }),
  provinceCode: fc.option(attributeText(3), { nil: undefined }),
  communeCode: fc.option(attributeText(3), { nil: undefined }),
  data: oddData,
  extensions: oddExtensions,
});

/**
 * `count` events of odd but valid text over `streams` streams, the same for the same seed: every
 * attribute, string, property name and number of them drawn by fast-check. Each (source, id) is
 * distinct, so every event is appended.
 */
export function oddEvents(count: number, options: { seed: number; streams: number }): EventToAppend[] {
  const streams = fc
    .sample(attributeText(6), { seed: options.seed, numRuns: options.streams })
    .map((s, k) => `dossier-${k}-${s}`);
  return fc.sample(oddEvent, { seed: options.seed, numRuns: count }).map((e, i) => {
    const event: EventToAppend = {
      stream: streams[i % streams.length]!,
      expectedVersion: ANY_VERSION,
      id: `${i}-${e.id}`,
      source: `/${e.source}`,
      type: `t.${e.type}`,
      data: e.data,
      extensions: e.extensions,
    };
    for (const key of [
      'time',
      'subject',
      'datacontenttype',
      'dataschema',
      'provinceCode',
      'communeCode',
    ] as const) {
      const value = e[key];
      if (value !== undefined) event[key] = value;
    }
    return event;
  });
}

/** A seed for a fuzzed test: LGSP_FUZZ_SEED when set (to replay a run), otherwise a new one. */
export function fuzzSeed(): number {
  const fixed = process.env.LGSP_FUZZ_SEED;
  return fixed && /^[0-9]+$/.test(fixed) ? Number(fixed) : Date.now() % 2 ** 31;
}
