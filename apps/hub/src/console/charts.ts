import { html, type Html } from './html.js';

/**
 * Small inline SVG charts, drawn with presentation attributes and classes only (the console's
 * content security policy allows no inline style). Each has a text alternative.
 */

/** A line of values over time (oldest first), scaled to its own maximum. */
export function sparkline(values: readonly number[], label: string, width = 320, height = 60): Html {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`)
    .join(' ');
  return html`<svg
    class="chart"
    role="img"
    aria-label="${label}"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
  >
    <title>${label}</title>
    <line class="axis" x1="0" y1="${height - 1}" x2="${width}" y2="${height - 1}"></line>
    <text class="bar-value" x="${width - 2}" y="12" text-anchor="end">max ${Math.round(max)}</text>
    ${values.length > 1 ? html`<polyline class="line" fill="none" points="${points}"></polyline>` : ''}
  </svg>`;
}

/** Horizontal bars, one per label, scaled to the largest value. */
export function bars(items: readonly { label: string; value: number }[], label: string, width = 560): Html {
  const max = Math.max(1, ...items.map((i) => i.value));
  const row = 22;
  const height = Math.max(row, items.length * row);
  const barsMarkup = items.map((item, i) => {
    const w = Math.max(item.value > 0 ? 2 : 0, (item.value / max) * (width - 260));
    const y = i * row;
    return html`<text class="bar-label" x="0" y="${y + 15}">${item.label}</text>
      <rect class="bar" x="200" y="${y + 4}" width="${w.toFixed(1)}" height="14"></rect>
      <text class="bar-value" x="${(204 + w).toFixed(1)}" y="${y + 15}">${item.value}</text>`;
  });
  return html`<svg
    class="chart"
    role="img"
    aria-label="${label}"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
  >
    <title>${label}</title>
    ${barsMarkup}
  </svg>`;
}
