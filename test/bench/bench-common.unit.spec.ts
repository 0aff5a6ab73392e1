import {
  baselineLine,
  benchLine,
  markdownTable,
  notMeasuredLine,
  processCpuMicros,
  textTable,
  type BenchTable,
} from './bench-common.js';

describe('benchmark tables', () => {
  it('a line carries its figure, its same-run baseline, the ratio and whether the ratio goal is met', () => {
    const met = benchLine(
      'relay',
      800,
      'events/s',
      { label: 'raw produce', figure: 1000 },
      { ratio: { min: 0.7 } },
    );
    expect(met).toMatchObject({ figure: 800, baselineFigure: 1000, ratio: 0.8, goal: '≥ 0.7×', met: true });
    const missed = benchLine(
      'relay',
      600,
      'events/s',
      { label: 'raw produce', figure: 1000 },
      { ratio: { min: 0.7 } },
    );
    expect(missed.met).toBe(false);
    const below = benchLine('page', 2, 'ms', { label: 'admin page', figure: 1 }, { ratio: { max: 3 } });
    expect(below).toMatchObject({ ratio: 2, goal: '≤ 3×', met: true });
  });

  it('a goal in words decides by its own verdict; a line without a goal is reported, neither met nor missed', () => {
    const latency = benchLine(
      'p99',
      120,
      'ms',
      { label: 'ingest p99', figure: 40 },
      { text: 'p99 < 100 ms', met: false },
    );
    expect(latency).toMatchObject({ ratio: 3, goal: 'p99 < 100 ms', met: false });
    expect(benchLine('Emmett', 50, 'events/s', { label: 'raw', figure: 100 })).toMatchObject({
      ratio: 0.5,
      goal: 'reported',
      met: null,
    });
    expect(baselineLine('raw', 100, 'events/s')).toMatchObject({ ratio: 1, baselineFigure: 100, met: null });
  });

  it('a line not measured says why and has no ratio nor verdict', () => {
    const line = notMeasuredLine('replay to a Kafka topic', 'raw produce', '≥ 0.8×', 'no replay yet');
    expect(line).toMatchObject({
      figure: null,
      ratio: null,
      met: null,
      note: 'no replay yet',
      goal: '≥ 0.8×',
    });
    const missingBaseline = benchLine('x', 5, 's', { label: 'y', figure: undefined }, { ratio: { min: 1 } });
    expect(missingBaseline).toMatchObject({ ratio: null, met: null });
  });

  it('prints a table as text and as markdown, every line with its baseline, ratio, goal and verdict', () => {
    const table: BenchTable = {
      benchmark: 'Kafka',
      lines: [
        baselineLine('raw produce', 18912, 'events/s'),
        benchLine(
          'relay | store',
          16057,
          'events/s',
          { label: 'raw produce', figure: 18912 },
          { ratio: { min: 0.7 } },
        ),
        notMeasuredLine('replay topic', 'raw produce', '≥ 0.8×', 'not measured in this revision'),
      ],
    };
    const text = textTable(table).split('\n');
    expect(text[0]).toBe('── Kafka ──');
    expect(text[3]).toMatch(
      /^relay \| store +16,057 events\/s +raw produce: 18,912 events\/s +0\.85× +≥ 0\.7× +met$/,
    );
    const md = markdownTable(table).split('\n');
    expect(md[0]).toBe('| measurement | figure | baseline (same run) | ratio | goal | met |');
    expect(md[3]).toBe(
      '| relay \\| store | 16,057 events/s | raw produce: 18,912 events/s | 0.85× | ≥ 0.7× | met |',
    );
    expect(md[4]).toBe('| replay topic | not measured in this revision | raw produce | — | ≥ 0.8× | — |');
  });
});

describe('a process CPU time', () => {
  it("reads a process's CPU time from /proc, growing with work, and tells nothing for a process that is not there", () => {
    const before = processCpuMicros(process.pid);
    expect(before).toEqual(expect.any(Number));
    // 100 ms of work: ten of /proc's 10 ms steps at least.
    const until = performance.now() + 100;
    let spins = 0;
    while (performance.now() < until) spins++;
    expect(spins).toBeGreaterThan(0);
    expect(processCpuMicros(process.pid)! - before!).toBeGreaterThanOrEqual(50_000);
    expect(processCpuMicros(2 ** 22 + 1)).toBeUndefined();
    expect(processCpuMicros(undefined)).toBeUndefined();
  });
});
