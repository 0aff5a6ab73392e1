import { DomainError, type Issue } from '#lgsp/contracts';

/** The longest window a "who was affected" query may cover. */
export const MAX_AFFECTED_WINDOW_DAYS = 366;

const DAY_MS = 86_400_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** A half-open window of recording times, `[from, to)`, in epoch milliseconds. */
export interface AffectedWindow {
  from: number;
  to: number;
}

/** The instant of an RFC 3339 date-time (with its offset), undefined when `text` is not one. */
export function rfc3339(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The window `[from, to)` of a query: both required RFC 3339 date-times, `from` before `to`, at most
 * {@link MAX_AFFECTED_WINDOW_DAYS} days apart.
 * @throws DomainError `invalid` with one issue per bad member (pointers `/from`, `/to`).
 */
export function affectedWindow(from: string | undefined, to: string | undefined): AffectedWindow {
  const issues: Issue[] = [];
  const parse = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined || text === '') {
      issues.push({ pointer: `/${name}`, message: 'is required: an RFC 3339 date-time' });
      return undefined;
    }
    const ms = rfc3339(text);
    if (ms === undefined)
      issues.push({
        pointer: `/${name}`,
        message: 'must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z',
      });
    return ms;
  };
  const start = parse('from', from);
  const end = parse('to', to);
  if (start !== undefined && end !== undefined) {
    if (end <= start) issues.push({ pointer: '/to', message: 'must be after from' });
    else if (end - start > MAX_AFFECTED_WINDOW_DAYS * DAY_MS)
      issues.push({ pointer: '/to', message: `must be at most ${MAX_AFFECTED_WINDOW_DAYS} days after from` });
  }
  if (issues.length > 0 || start === undefined || end === undefined)
    throw new DomainError('invalid', 'the window of the query is not valid', issues);
  return { from: start, to: end };
}

/**
 * The first position in `[1, head]` whose recording time is at or after `at` (head + 1 when none), by
 * binary search: `recordedAt(p)` is the time of the event at position p (positions are committed in
 * time order, so the times do not decrease).
 */
export async function firstPositionAt(
  head: number,
  at: number,
  recordedAt: (position: number) => Promise<number | undefined>,
): Promise<number> {
  let lo = 1;
  let hi = head + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const time = await recordedAt(mid);
    if (time !== undefined && time < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One page of a list sorted by `key`: the items after the cursor, and the cursor of the next page. */
export function pageAfter<T>(
  sorted: readonly T[],
  key: (item: T) => string,
  limit: number,
  after?: string,
): { items: T[]; next?: string } {
  let start = 0;
  if (after !== undefined) {
    // The first item whose key sorts after the cursor (binary search: the list is sorted by key).
    let hi = sorted.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      if (key(sorted[mid]!) <= after) start = mid + 1;
      else hi = mid;
    }
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  return start + limit < sorted.length && last !== undefined ? { items, next: key(last) } : { items };
}
