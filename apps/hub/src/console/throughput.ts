/**
 * The log's append rate over the last minutes, for the console's overview: the head position sampled
 * every `intervalMs` (and when the overview is drawn), kept for `keep` samples.
 */
export class ThroughputSampler {
  private readonly samples: { at: number; head: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly readHead: () => Promise<number>,
    private readonly intervalMs = 5_000,
    private readonly keep = 120,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the head now; a sample less than a second after the previous one replaces nothing. */
  async sample(): Promise<void> {
    let head: number;
    try {
      head = await this.readHead();
    } catch {
      return;
    }
    const at = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && at - last.at < 1000) return;
    this.samples.push({ at, head });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  get head(): number {
    return this.samples[this.samples.length - 1]?.head ?? 0;
  }

  /** Events per second between each two samples, oldest first. */
  series(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      out.push(Math.max(0, (b.head - a.head) / ((b.at - a.at) / 1000)));
    }
    return out;
  }

  /** The rate between the last two samples; undefined before there are two. */
  get rate(): number | undefined {
    const s = this.series();
    return s.length === 0 ? undefined : s[s.length - 1];
  }
}
