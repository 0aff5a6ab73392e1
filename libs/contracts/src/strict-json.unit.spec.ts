import {
  MAX_JSON_ARRAY_LENGTH,
  MAX_JSON_DEPTH,
  MAX_JSON_OBJECT_MEMBERS,
  MAX_JSON_STRING_LENGTH,
  parseStrictJson,
  parseStrictJsonBytes,
} from '#lgsp/contracts';
import { domainError as refusal } from './testing/index.js';

const nested = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('parseStrictJson: nesting depth', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more, pointing at the container too deep`, () => {
    expect(parseStrictJson(`{"data":${nested(MAX_JSON_DEPTH - 1)}}`, 'body')).toBeDefined();
    const error = refusal(() => parseStrictJson(`{"data":{"a":[0,${nested(MAX_JSON_DEPTH)}]}}`, 'body'));
    expect(error.code).toBe('too-large');
    expect(error.issues).toEqual([
      {
        // Depth 65 is the 62nd array of the nested ones, which starts at /data/a/1.
        pointer: `/data/a/1${'/0'.repeat(MAX_JSON_DEPTH - 3)}`,
        message: `nests deeper than ${MAX_JSON_DEPTH} levels`,
      },
    ]);
  });

  it('refuses 5,000 levels in data, in an extension attribute and in a bare body, without overflowing the stack', () => {
    for (const [text, pointer] of [
      [`{"id":"x","data":${nested(5000)}}`, '/data'],
      [`{"id":"x","myext":{"a":${nested(5000)}}}`, '/myext/a'],
      [nested(5000), ''],
      [`{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}`, '/a'],
    ] as const) {
      const error = refusal(() => parseStrictJson(text, 'body'));
      expect(error.code).toBe('too-large');
      expect(error.issues[0]?.pointer.startsWith(pointer)).toBe(true);
    }
  });

  it('counts no brackets, braces or colons inside strings, escaped quotes included', () => {
    const tricky = `{"a":"${'[{:'.repeat(200)}\\"${'[{'.repeat(100)}","b\\\\":1}`;
    expect(parseStrictJson(tricky, 'body')).toEqual({
      a: `${'[{:'.repeat(200)}"${'[{'.repeat(100)}`,
      'b\\': 1,
    });
  });

  it('leaves text that is not JSON to the JSON parser', () => {
    const error = refusal(() => parseStrictJson('{"a": "unterminated', 'body'));
    expect(error.code).toBe('malformed');
    expect(error.message).toContain('not valid JSON');
  });
});

describe('parseStrictJson: sizes', () => {
  it('refuses a string or a member name longer than the limit, pointing at it', () => {
    const long = 'x'.repeat(MAX_JSON_STRING_LENGTH + 1);
    expect(parseStrictJson(`{"a":"${'x'.repeat(MAX_JSON_STRING_LENGTH)}"}`, 'body')).toBeDefined();
    const value = refusal(() => parseStrictJson(`{"id":"${long}"}`, 'body', '/data'));
    expect(value.code).toBe('too-large');
    expect(value.issues[0]?.pointer).toBe('/data/id');
    const key = refusal(() => parseStrictJson(`{"a":[{"${long}":1}]}`, 'body'));
    expect(key.code).toBe('too-large');
    expect(key.issues[0]).toEqual({
      pointer: `/a/0/${long}`,
      message: `member name is longer than ${MAX_JSON_STRING_LENGTH} characters`,
    });
  });

  it('refuses an object with too many members and an array with too many elements', () => {
    const members = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
    expect(parseStrictJson(members(MAX_JSON_OBJECT_MEMBERS), 'body')).toBeDefined();
    const object = refusal(() => parseStrictJson(`{"data":${members(MAX_JSON_OBJECT_MEMBERS + 1)}}`, 'body'));
    expect([object.code, object.issues[0]?.pointer]).toEqual(['too-large', '/data']);
    const elements = (n: number): string => `[${new Array<string>(n).fill('0').join(',')}]`;
    expect(parseStrictJson(elements(MAX_JSON_ARRAY_LENGTH), 'body')).toHaveLength(MAX_JSON_ARRAY_LENGTH);
    const array = refusal(() =>
      parseStrictJson(`{"a":{"b":${elements(MAX_JSON_ARRAY_LENGTH + 1)}}}`, 'body'),
    );
    expect([array.code, array.issues[0]?.pointer]).toEqual(['too-large', '/a/b']);
  });
});

describe('parseStrictJson: I-JSON', () => {
  it('refuses lone surrogates in values and member names at any depth, pointing at them', () => {
    for (const [text, pointer] of [
      ['{"id":"a\\ud800"}', '/id'],
      ['{"id":"\\uDC00b"}', '/id'],
      ['{"data":{"list":[1,{"x":"\\udbff\\u0041"}]}}', '/data/list/1/x'],
      ['{"data":{"x\\ud800y":1}}', '/data/x\ud800y'],
      ['["ok", "\\ud83d"]', '/1'],
    ] as const) {
      const error = refusal(() => parseStrictJson(text, 'body'));
      expect(error.code).toBe('malformed');
      expect(error.issues).toEqual([{ pointer, message: expect.stringContaining('lone UTF-16 surrogate') }]);
    }
  });

  it('accepts surrogate pairs, escaped or not, and other escapes', () => {
    expect(parseStrictJson('{"a":"\\ud83d\\ude00 😀 \\u00e9\\n"}', 'body')).toEqual({ a: '😀 😀 é\n' });
  });

  it('refuses numbers a 64-bit float cannot carry: non-finite, and integers beyond ±(2^53 − 1)', () => {
    for (const [text, message] of [
      ['{"a":1e400}', 'is beyond the range of a 64-bit float'],
      ['{"a":-1e400}', 'is beyond the range of a 64-bit float'],
      ['{"a":9007199254740992}', 'is an integer beyond ±(2^53 − 1)'],
      ['{"a":[-12345678901234567890]}', 'is an integer beyond ±(2^53 − 1)'],
      ['{"a":1.5e300}', 'is an integer beyond ±(2^53 − 1)'],
    ] as const) {
      const error = refusal(() => parseStrictJson(text, 'body'));
      expect(error.code).toBe('malformed');
      expect(error.issues[0]?.message).toBe(message);
      expect(error.issues[0]?.pointer.startsWith('/a')).toBe(true);
    }
    expect(parseStrictJson('[9007199254740991,-9007199254740991,0.1,1e-7,-0,2.5e10]', 'body')).toEqual([
      9007199254740991, -9007199254740991, 0.1, 1e-7, -0, 2.5e10,
    ]);
  });

  it('refuses a member name given twice in one object, pointing at the repeat, and allows it in siblings', () => {
    const error = refusal(() => parseStrictJson('{"a":{"b":[{"c":1},{"c":2,"d":{},"c":3}]}}', 'body'));
    expect(error.code).toBe('malformed');
    expect(error.issues).toEqual([{ pointer: '/a/b/1/c', message: 'is repeated in its object' }]);
    const escaped = refusal(() => parseStrictJson('{"x":1,"\\u0078":2}', 'body'));
    expect(escaped.issues[0]?.pointer).toBe('/x');
    expect(parseStrictJson('{"a":{"c":1},"b":{"c":1}}', 'body')).toEqual({ a: { c: 1 }, b: { c: 1 } });
  });

  it('refuses an own __proto__ member, spelt out or escaped', () => {
    for (const text of ['{"a":[{"__proto__":{"x":1}}]}', '{"a":[{"\\u005f_proto__":{"x":1}}]}']) {
      const error = refusal(() => parseStrictJson(text, 'body'));
      expect(error.issues).toEqual([{ pointer: '/a/0/__proto__', message: 'is not accepted' }]);
    }
  });
});

describe('parseStrictJsonBytes', () => {
  it('refuses bytes that are not UTF-8 and skips a byte order mark', () => {
    const error = refusal(() =>
      parseStrictJsonBytes(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'body', '/data'),
    );
    expect(error.issues).toEqual([{ pointer: '/data', message: 'is not valid UTF-8' }]);
    expect(parseStrictJsonBytes(Buffer.from('\ufeff{"a":"Hoà"}', 'utf8'), 'body')).toEqual({ a: 'Hoà' });
  });
});
