/** Renders rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Renders `label: value` lines with the values aligned; undefined values are left out. */
export function fields(rows: readonly (readonly [string, unknown])[]): string {
  const shown = rows.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${String(v)}`).join('\n');
}

/**
 * A JSON value in one table cell: text as it is, `null` as `-`, anything else as compact JSON, cut
 * to `max` characters so one long value does not stretch the table.
 */
export function cell(value: unknown, max = 48): string {
  const text =
    value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Expected and actual of a finding, each in one cell of at most `max` characters. When one is longer,
 * both show the same window around their first difference, `@N` its character position (from 1), so
 * two long values that differ late do not look the same; `--json` gives them whole.
 */
export function difference(expected: unknown, actual: unknown, max = 48): [string, string] {
  const a = cell(expected, Number.MAX_SAFE_INTEGER);
  const b = cell(actual, Number.MAX_SAFE_INTEGER);
  if (a.length <= max && b.length <= max) return [a, b];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const at = `@${i + 1} `;
  const start = Math.max(0, i - 12);
  const lead = start > 0 ? '…' : '';
  const room = max - at.length - lead.length - 1;
  const clip = (t: string): string => {
    const part = t.slice(start, start + room);
    return `${at}${lead}${part}${start + room < t.length ? '…' : ''}`;
  };
  return [clip(a), clip(b)];
}
