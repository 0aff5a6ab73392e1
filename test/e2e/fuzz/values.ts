import fc from 'fast-check';

/*
 * The fuzzing's hostile values (fuzz.e2e.spec.ts): JSON built as text, so that it can hold what
 * JSON.stringify never writes, member names and edits, and the CloudEvents made of them.
 */

export const SOURCE = '/communes/21040/one-stop-shop';
export const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

// ---------------------------------------------------------------------------------------------------
// Hostile JSON, built as text so that it can hold what JSON.stringify never writes.

const nested = (depth: number, open: string, close: string, inner = '0'): string =>
  open.repeat(depth) + inner + close.repeat(depth);

export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '9007199254740993',
    '-9007199254740993',
    '123456789012345678901234567890',
    '1.5e300',
    '-0',
    '1e-400',
    '0.1',
    'true',
    'null',
    '""',
    '"\\ud800"',
    '"a\\udfff"',
    '"\\udbff\\u0041"',
    '"\\ud83d\\ude00 ok"',
    '{"__proto__":{"polluted":1}}',
    '{"\\u005f_proto__":1}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"a":1,"a":2}',
    '{"a":{"b":[{"c":1,"c":1}]}}',
    '{"\\ud800":1}',
  ),
  fc.constantFrom(10, 63, 64, 65, 300, 5000).map((d) => nested(d, '[', ']')),
  fc.constantFrom(10, 64, 65, 5000).map((d) => nested(d, '{"a":', '}')),
  fc.constantFrom(1024, 1025, 65_536, 65_537, 300_000).map((n) => JSON.stringify('x'.repeat(n))),
  fc
    .constantFrom(1000, 1001)
    .map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  fc.constantFrom(10_000, 10_001).map((n) => `[${new Array<string>(n).fill('0').join(',')}]`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
);

/** Text a citizen might type: any Unicode, NFD included, but well-formed. */
export const freeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 });
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('"__proto__"', '"\\ud800"', '"constructor"', `"${'k'.repeat(70_000)}"`, '""'),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
);

export type Member = readonly [string, string];
export const objectText = (members: readonly Member[]): string =>
  `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`;
export const q = (value: unknown): string => JSON.stringify(value);

/** One edit of a list of members: change a value, add a member, drop one, repeat one. */
export const memberEdit = (known: readonly string[]): fc.Arbitrary<(members: Member[]) => Member[]> =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...known), hostileValue).map(
      ([name, value]) =>
        (members: Member[]) =>
          members.map(([k, v]): Member => (k === q(name) ? [k, value] : [k, v])),
    ),
    fc
      .tuple(hostileKey, hostileValue)
      .map(([key, value]) => (members: Member[]): Member[] => [...members, [key, value]]),
    fc.constantFrom(...known).map((name) => (members: Member[]) => members.filter(([k]) => k !== q(name))),
    fc.constantFrom(...known).map((name) => (members: Member[]) => {
      const found = members.find(([k]) => k === q(name));
      return found ? [...members, found] : members;
    }),
  );

export const dossierCodeArb = fc.uuid().map((u) => `000.00.51.H56-251123-${u.slice(0, 8).toUpperCase()}`);

interface EventParts {
  attributes: Record<string, string | number | boolean>;
  data: Member[];
}

export const DATA_NAMES = [
  'dossierCode',
  'procedureCode',
  'agencyCode',
  'provinceCode',
  'communeCode',
  'channel',
  'applicant',
  'receivedAt',
  'summary',
  'procedureName',
  'fees',
  'status',
  'changedAt',
];

/** A catalogue event, valid unless edited: free text and extensions chosen at random. */
export const eventParts: fc.Arbitrary<EventParts> = fc
  .record({
    id: fc.uuid(),
    code: dossierCodeArb,
    submitted: fc.boolean(),
    name: freeText,
    summary: fc.option(fc.string({ unit: 'grapheme-composite', maxLength: 300 }), { nil: undefined }),
    subject: fc.option(freeText, { nil: undefined }),
    extensions: fc.dictionary(
      fc
        .stringMatching(/^[a-z][a-z0-9]{0,9}$/)
        .filter(
          (n) =>
            ![
              'id',
              'source',
              'type',
              'time',
              'subject',
              'data',
              'specversion',
              'dataschema',
              'expectedversion',
            ].includes(n),
        ),
      fc.oneof(freeText, fc.integer({ min: -2147483648, max: 2147483647 }), fc.boolean()),
      { maxKeys: 3 },
    ),
  })
  .map(({ id, code, submitted, name, summary, subject, extensions }) => {
    const attributes: EventParts['attributes'] = {
      specversion: '1.0',
      id,
      source: SOURCE,
      type: submitted ? SUBMITTED : STATUS_CHANGED,
      time: '2025-11-23T09:15:00+07:00',
      ...(subject === undefined ? {} : { subject }),
      ...extensions,
    };
    const place: Member[] = [
      [q('dossierCode'), q(code)],
      [q('provinceCode'), q('51')],
      [q('communeCode'), q('21040')],
    ];
    const data: Member[] = submitted
      ? [
          ...place,
          [q('procedureCode'), q('1.001193')],
          [q('agencyCode'), q('000.00.51.H56')],
          [q('channel'), q('online')],
          [
            q('applicant'),
            objectText([
              [q('fullName'), q(name)],
              [q('idNumber'), q('051190001234')],
            ]),
          ],
          [q('receivedAt'), q('2025-11-23T09:15:00+07:00')],
          [
            q('fees'),
            `[${objectText([
              [q('name'), q('Lệ phí')],
              [q('amount'), '50000'],
            ])}]`,
          ],
          ...(summary === undefined ? [] : [[q('summary'), q(summary)] as Member]),
        ]
      : [...place, [q('status'), '2'], [q('changedAt'), q('2025-11-23T10:00:00+07:00')]];
    return { attributes, data };
  });

/** An event as structured-mode JSON text, edited (or not) in its attributes and its data. */
export const structuredEvent: fc.Arbitrary<string> = fc
  .tuple(
    eventParts,
    fc.array(memberEdit(['id', 'source', 'type', 'time', 'specversion', 'subject', 'expectedversion']), {
      maxLength: 2,
    }),
    fc.array(memberEdit(DATA_NAMES), { maxLength: 2 }),
    fc.nat(9),
  )
  .map(([parts, attributeEdits, dataEdits, dice]) => {
    // Most events stay valid, so that the read-back check has plenty to compare.
    const edit = dice >= 5;
    let attributes: Member[] = Object.entries(parts.attributes).map(([k, v]) => [q(k), q(v)]);
    let data = parts.data;
    if (edit) for (const e of attributeEdits) attributes = e(attributes);
    if (edit) for (const e of dataEdits) data = e(data);
    return objectText([...attributes, [q('data'), objectText(data)]]);
  });
