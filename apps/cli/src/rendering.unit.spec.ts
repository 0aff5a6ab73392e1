import { ProgressLine, formatDuration, percent, progressBar } from './progress.js';
import { isYes } from './replay.js';
import { SseParser } from './sse.js';
import { cell, fields } from './table.js';

describe('progress rendering', () => {
  it('draws a bar of done over total, empty while the total is unknown', () => {
    expect(progressBar(0, 10, 10)).toBe('[----------]');
    expect(progressBar(5, 10, 10)).toBe('[#####-----]');
    expect(progressBar(12, 10, 10)).toBe('[##########]');
    expect(progressBar(3, 0, 4)).toBe('[----]');
    expect(percent(1, 3)).toBe('33%');
    expect(percent(1, 0)).toBe('-');
  });

  it('formats durations as s, m and h, and unknown as -', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(null)).toBe('-');
  });

  it('redraws one line with a bar on a terminal, ended by a newline', () => {
    const written: string[] = [];
    const line = new ProgressLine({
      stderr: { isTTY: true, columns: 80, write: (t: string) => written.push(t) },
    });
    line.update(1, 4, 'one');
    line.update(4, 4, 'four');
    line.finish();
    expect(written).toEqual([
      `\r[######------------------] one\x1b[K`,
      `\r[########################] four\x1b[K`,
      '\n',
    ]);
  });

  it('prints plain lines at most every interval when stderr is not a terminal, and the last state', () => {
    const written: string[] = [];
    let now = 0;
    const line = new ProgressLine({
      stderr: { write: (t: string) => written.push(t) },
      clock: { now: () => now },
      plainProgressMs: 1000,
    });
    line.update(1, 4, 'one');
    now = 500;
    line.update(2, 4, 'two');
    now = 1000;
    line.update(3, 4, 'three');
    now = 1200;
    line.update(4, 4, 'four');
    line.finish();
    expect(written).toEqual(['one\n', 'three\n', 'four\n']);
  });
});

describe('SseParser', () => {
  it('parses events split across chunks, with CRLF, comments and multi-line data', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\nid: 7\nevent: t\nda')).toEqual([]);
    expect(p.push('ta: {"a":1}\r\n\r')).toEqual([]);
    expect(p.push('\ndata: x\ndata: y\n\n')).toEqual([
      { id: '7', event: 't', data: '{"a":1}' },
      { id: '7', data: 'x\ny' },
    ]);
  });
});

describe('tables and answers', () => {
  it('aligns fields, leaving out undefined values', () => {
    expect(
      fields([
        ['a', 1],
        ['long name', 'x'],
        ['gone', undefined],
      ]),
    ).toBe('a:          1\nlong name:  x');
  });

  it('shows a JSON value in a cell: text as is, null as -, objects compact, long ones cut', () => {
    expect(cell('Nguyễn')).toBe('Nguyễn');
    expect(cell(null)).toBe('-');
    expect(cell({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(cell('x'.repeat(60), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('takes y and yes (any case) as a confirmation, anything else as no', () => {
    for (const yes of ['y', 'Y', 'yes', ' YES ']) expect(isYes(yes)).toBe(true);
    for (const no of ['', 'n', 'no', 'yep', 'ok']) expect(isYes(no)).toBe(false);
  });
});
