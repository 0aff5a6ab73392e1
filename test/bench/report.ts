/**
 * Prints the tables of a `npm run bench` results file as markdown, for BENCHMARKS.md:
 * `node dist/test/bench/report.js bench-results/latest.json`.
 */
import { readFileSync } from 'node:fs';
import { markdownTable, type BenchTable } from './bench-common.js';

interface Results {
  startedAt: string;
  seconds: number;
  settings: Record<string, unknown>;
  machine: Record<string, unknown>;
  parts: { part: string; seconds: number; tables: BenchTable[] }[];
}

/** The results file as markdown: the machine and the run, then one table per benchmark. */
export function resultsMarkdown(results: Results): string {
  const m = results.machine;
  const out = [
    `Run of ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${String(m.cpus)} × ${String(m.cpuModel)}, ` +
      `${String(m.memoryGiB)} GiB, ${String(m.os)}, Node ${String(m.node)} ` +
      `(load average at start ${(m.loadAverageAtStart as number[] | undefined)?.join(', ') ?? 'unknown'}); ` +
      `settings ${JSON.stringify(results.settings)}; ${(results.seconds / 60).toFixed(1)} min in all ` +
      `(${results.parts.map((p) => `${p.part} ${p.seconds.toFixed(0)} s`).join(', ')}).`,
  ];
  for (const p of results.parts)
    for (const table of p.tables) out.push('', `#### ${table.benchmark}`, '', markdownTable(table));
  return out.join('\n');
}

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: node dist/test/bench/report.js <bench-results/latest.json>');
  process.exit(2);
}
console.log(resultsMarkdown(JSON.parse(readFileSync(file, 'utf8')) as Results));
