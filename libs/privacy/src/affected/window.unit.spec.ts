import { DomainError } from '#lgsp/contracts';
import { affectedWindow, firstPositionAt, pageAfter, rfc3339 } from './window.js';

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, issues: err.issues };
    throw err;
  }
  throw new Error('no error');
};

describe('the window of "who was affected"', () => {
  it('takes two RFC 3339 times with their offsets, half-open', () => {
    expect(affectedWindow('2026-03-01T00:00:00+07:00', '2026-03-02T00:00:00Z')).toEqual({
      from: Date.parse('2026-02-28T17:00:00Z'),
      to: Date.parse('2026-03-02T00:00:00Z'),
    });
    expect(rfc3339('2026-03-01')).toBeUndefined();
    expect(rfc3339('2026-13-01T00:00:00Z')).toBeUndefined();
  });

  it('refuses a missing, malformed, reversed or too long window, naming the parameter', () => {
    expect(issuesOf(() => affectedWindow(undefined, ''))).toEqual({
      code: 'invalid',
      issues: [
        { pointer: '/from', message: 'is required: an RFC 3339 date-time' },
        { pointer: '/to', message: 'is required: an RFC 3339 date-time' },
      ],
    });
    expect(issuesOf(() => affectedWindow('yesterday', '2026-03-01T00:00:00Z')).issues).toEqual([
      { pointer: '/from', message: 'must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z' },
    ]);
    expect(issuesOf(() => affectedWindow('2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z')).issues).toEqual([
      { pointer: '/to', message: 'must be after from' },
    ]);
    expect(issuesOf(() => affectedWindow('2025-01-01T00:00:00Z', '2026-01-02T00:00:01Z')).issues).toEqual([
      { pointer: '/to', message: 'must be at most 366 days after from' },
    ]);
    expect(affectedWindow('2025-01-01T00:00:00Z', '2026-01-02T00:00:00Z').to).toBe(
      Date.parse('2026-01-02T00:00:00Z'),
    );
  });
});

describe('the first position of a window', () => {
  // Times of positions 1..n: several events share a millisecond.
  const times = [10, 10, 20, 20, 20, 30, 40, 40, 50];
  const reads: number[] = [];
  const at = (p: number) => {
    reads.push(p);
    return Promise.resolve(times[p - 1]);
  };

  it.each([
    [0, 1],
    [10, 1],
    [11, 3],
    [20, 3],
    [21, 6],
    [40, 7],
    [50, 9],
    [51, 10],
  ])('at time %d is position %d', async (time, position) => {
    reads.length = 0;
    expect(await firstPositionAt(times.length, time, at)).toBe(position);
    // Binary search: about log2(n) reads, not a scan.
    expect(reads.length).toBeLessThanOrEqual(Math.ceil(Math.log2(times.length + 1)));
  });

  it('is 1 past the head of an empty log', async () => {
    expect(await firstPositionAt(0, 5, at)).toBe(1);
  });

  it('reads about 20 events on a log of a million', async () => {
    let count = 0;
    const found = await firstPositionAt(1_000_000, 654_321, (p) => {
      count++;
      return Promise.resolve(p);
    });
    expect(found).toBe(654_321);
    expect(count).toBeLessThanOrEqual(20);
  });
});

describe('pages of subjects', () => {
  const refs = ['a', 'b', 'c', 'd', 'e'].map((subjectRef) => ({ subjectRef }));
  const key = (s: { subjectRef: string }) => s.subjectRef;

  it('walks the sorted list page by page, the cursor the last key of a page', () => {
    const first = pageAfter(refs, key, 2);
    expect(first).toEqual({ items: [{ subjectRef: 'a' }, { subjectRef: 'b' }], next: 'b' });
    const second = pageAfter(refs, key, 2, first.next);
    expect(second).toEqual({ items: [{ subjectRef: 'c' }, { subjectRef: 'd' }], next: 'd' });
    expect(pageAfter(refs, key, 2, second.next)).toEqual({ items: [{ subjectRef: 'e' }] });
  });

  it('has no next page when the last one is exactly full, and nothing after the end', () => {
    expect(pageAfter(refs, key, 5)).toEqual({ items: refs });
    expect(pageAfter(refs, key, 2, 'e')).toEqual({ items: [] });
    // A cursor between keys (the subject it named was erased meanwhile) resumes after it.
    expect(pageAfter(refs, key, 1, 'bb')).toEqual({ items: [{ subjectRef: 'c' }], next: 'c' });
  });
});
