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
