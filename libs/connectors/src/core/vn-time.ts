/**
 * The date formats of the simulated systems. All are Vietnam local time (UTC+7, no daylight saving)
 * written without an offset, except ISO-8601 which carries `+07:00`.
 *
 * | name        | example                      | used by                                   |
 * |-------------|------------------------------|-------------------------------------------|
 * | `portal`    | `20250701083000`             | national portal, payments, DVCLT status reports |
 * | `legacy`    | `01/07/2025 08:30:00`        | one-stop-shop; civil-registry `ngayTiepNhan` |
 * | `dateOnly`  | `01/07/2025`                 | civil-registry result `ngayDangKy`        |
 * | `dotted`    | `01.07.2025`                 | civil-registry person dates (`nksNgaySinh`) |
 * | `iso`       | `2025-07-01T08:30:00+07:00`  | civil-registry result updates (`ngayCapNhat`) |
 * | `twelveHour`| `01/07/2025 08:30:00 AM`     | a 12-hour time some systems write         |
 */

import { mappingError } from './errors.js';

const VN_OFFSET_MS = 7 * 3600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant (epoch ms) of an RFC 3339 time with any offset, or NaN when `text` is not one. */
export function rfc3339Instant(text: string): number {
  return RFC3339.test(text) ? Date.parse(text) : Number.NaN;
}

/**
 * An RFC 3339 time (any offset) as `target` writes it: in `format`, Vietnam local time; fractions of
 * a second are dropped.
 * @throws ConnectorError (`data`, `mapping`) of `target`, naming `field` (and the dossier when
 * given), when `time` is not RFC 3339.
 */
export function toTargetTime(
  target: string,
  format: DateFormat,
  time: string,
  field: string,
  dossierCode?: string,
): string {
  const ms = rfc3339Instant(time);
  if (Number.isNaN(ms)) {
    const of = dossierCode === undefined ? '' : `dossier ${dossierCode}: `;
    throw mappingError(target, `${of}${field} ${JSON.stringify(time)} is not an RFC 3339 time`);
  }
  return formatVn(Math.floor(ms / 1000) * 1000, format);
}

export type DateFormat = 'portal' | 'legacy' | 'dateOnly' | 'dotted' | 'iso' | 'twelveHour';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function localParts(ms: number): Parts {
  const t = new Date(ms + VN_OFFSET_MS);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

/** Formats an instant (epoch ms or Date) in Vietnam local time. */
export function formatVn(instant: number | Date, format: DateFormat): string {
  const p = localParts(typeof instant === 'number' ? instant : instant.getTime());
  const date = `${pad(p.d)}/${pad(p.mo)}/${pad(p.y, 4)}`;
  const time = `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
  switch (format) {
    case 'portal':
      return `${pad(p.y, 4)}${pad(p.mo)}${pad(p.d)}${pad(p.h)}${pad(p.mi)}${pad(p.s)}`;
    case 'legacy':
      return `${date} ${time}`;
    case 'dateOnly':
      return date;
    case 'dotted':
      return `${pad(p.d)}.${pad(p.mo)}.${pad(p.y, 4)}`;
    case 'iso':
      return `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}T${time}+07:00`;
    case 'twelveHour': {
      const h12 = p.h % 12 === 0 ? 12 : p.h % 12;
      return `${date} ${pad(h12)}:${pad(p.mi)}:${pad(p.s)} ${p.h < 12 ? 'AM' : 'PM'}`;
    }
  }
}

const PATTERNS: Record<DateFormat, RegExp> = {
  portal: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/,
  legacy: /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/,
  dateOnly: /^(\d{2})\/(\d{2})\/(\d{4})$/,
  dotted: /^(\d{2})\.(\d{2})\.(\d{4})$/,
  iso: /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\+07:00$/,
  twelveHour: /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2}) (AM|PM)$/,
};

/** Parses a Vietnam-local time in `format` to epoch ms; `undefined` if malformed or not a real date. */
export function parseVn(text: string, format: DateFormat): number | undefined {
  const m = PATTERNS[format].exec(text);
  if (!m) return undefined;
  const g = m.slice(1, 7).map(Number);
  let p: Parts;
  if (format === 'portal' || format === 'iso') {
    p = { y: g[0]!, mo: g[1]!, d: g[2]!, h: g[3]!, mi: g[4]!, s: g[5]! };
  } else if (format === 'dateOnly' || format === 'dotted') {
    p = { y: g[2]!, mo: g[1]!, d: g[0]!, h: 0, mi: 0, s: 0 };
  } else {
    p = { y: g[2]!, mo: g[1]!, d: g[0]!, h: g[3]!, mi: g[4]!, s: g[5]! };
  }
  if (format === 'twelveHour') {
    if (p.h < 1 || p.h > 12) return undefined;
    p.h = (p.h % 12) + (m[7] === 'PM' ? 12 : 0);
  }
  const ms = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - VN_OFFSET_MS;
  const back = localParts(ms);
  if (
    back.y !== p.y ||
    back.mo !== p.mo ||
    back.d !== p.d ||
    back.h !== p.h ||
    back.mi !== p.mi ||
    back.s !== p.s
  ) {
    return undefined;
  }
  return ms;
}

/** An instant as RFC 3339 in Vietnam local time, e.g. `2025-07-01T08:30:00+07:00` (whole seconds). */
export function toVnRfc3339(instant: number | Date): string {
  return formatVn(instant, 'iso');
}

/**
 * A Vietnam-local time in one of the systems' formats, as an RFC 3339 string with `+07:00`, or
 * `undefined` when the text is not a real time in that format.
 */
export function vnTextToRfc3339(text: string, format: DateFormat): string | undefined {
  const ms = parseVn(text.trim(), format);
  return ms === undefined ? undefined : toVnRfc3339(ms);
}
