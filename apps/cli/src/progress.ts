import { nowOf, type CliIo } from './io.js';

/** `[#####-----]`: `done` of `total` in `width` cells (empty when the total is not known yet). */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** `42s`, `3m05s`, `1h02m`; `-` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `12,345`. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** `12%` of a total (`-` while the total is 0). */
export const percent = (done: number, total: number): string =>
  total > 0 ? `${Math.floor((100 * Math.min(done, total)) / total)}%` : '-';

/**
 * One progress line on stderr. On a terminal it is redrawn in place with a bar; otherwise (a log
 * file, a CI job) it is a plain line at most every `plainProgressMs`, and the last state once more at
 * the end, so logs stay readable.
 */
export class ProgressLine {
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly plainEveryMs: number;
  private lastPlainAt: number | undefined;
  private lastPlain = '';
  private pending = '';
  private drawn = false;

  constructor(private readonly io: Pick<CliIo, 'stderr' | 'clock' | 'plainProgressMs'>) {
    this.tty = io.stderr.isTTY === true;
    this.now = nowOf(io);
    this.plainEveryMs = io.plainProgressMs ?? 10_000;
  }

  update(done: number, total: number, text: string): void {
    if (this.tty) {
      const width = Math.max(20, (this.io.stderr.columns ?? 80) - 1);
      const line = `${progressBar(done, total, 24)} ${text}`;
      this.io.stderr.write(`\r${line.slice(0, width)}\x1b[K`);
      this.drawn = true;
      return;
    }
    this.pending = text;
    const now = this.now();
    if (this.lastPlainAt === undefined || now - this.lastPlainAt >= this.plainEveryMs) {
      this.lastPlainAt = now;
      this.writePlain(text);
    }
  }

  /** Ends the line: a newline after the bar, or the last plain state when it was not printed yet. */
  finish(): void {
    if (this.tty) {
      if (this.drawn) this.io.stderr.write('\n');
      this.drawn = false;
    } else if (this.pending && this.pending !== this.lastPlain) this.writePlain(this.pending);
  }

  private writePlain(text: string): void {
    this.lastPlain = text;
    this.io.stderr.write(`${text}\n`);
  }
}
