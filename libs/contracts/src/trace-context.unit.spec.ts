import fc from 'fast-check';
import { formatTraceparent, parseTraceparent } from './trace-context.js';

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

describe('parseTraceparent (W3C Trace Context)', () => {
  it('reads the trace id, the parent id and the flags', () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      flags: 1,
    });
    // A later version may add fields after the flags.
    expect(parseTraceparent(`cc-${VALID.slice(3)}-what-the-future-holds`)).toBeDefined();
  });

  it.each([
    ['empty', ''],
    ['not text', 42],
    ['upper-case hex', VALID.toUpperCase()],
    ['version ff', `ff-${VALID.slice(3)}`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`],
    ['all-zero parent id', `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`],
    ['a short trace id', '00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01'],
    ['a long parent id', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333100-01'],
    ['version 00 with more fields', `${VALID}-extra`],
    ['spaces', ` ${VALID}`],
    ['other separators', VALID.replaceAll('-', '_')],
    ['no flags', VALID.slice(0, 52)],
    ['non-hex', '00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01'],
  ])('refuses %s', (_what, text) => {
    expect(parseTraceparent(text)).toBeUndefined();
  });

  it('reads back what it formats, for any non-zero ids and flags', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
        fc.pre(/[1-9a-f]/.test(traceId) && /[1-9a-f]/.test(spanId));
        expect(parseTraceparent(formatTraceparent({ traceId, spanId, flags }))).toEqual({
          traceId,
          spanId,
          flags,
        });
      }),
    );
  });

  it('accepts nothing but the format, whatever the text (fuzz)', () => {
    const shape = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          // Mutations of a valid one: a character replaced, removed or added.
          fc
            .tuple(fc.nat(54), fc.string({ minLength: 0, maxLength: 2 }))
            .map(([i, s]) => VALID.slice(0, i) + s + VALID.slice(i + 1)),
        ),
        (text) => {
          const parsed = parseTraceparent(text);
          if (parsed !== undefined) {
            expect(text).toMatch(shape);
            expect(text.startsWith('ff-')).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
