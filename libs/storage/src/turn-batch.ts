/**
 * Groups the calls made in one turn of the event loop into one call of `run`: the writes of one turn
 * become one transaction, so a durable store pays one commit (one fsync on SQLite) for all of them
 * instead of one each. Each caller's promise settles with its own result once `run` has finished (the
 * results in the order of the items), or with `run`'s error.
 */
export class TurnBatch<I, R> {
  private queued: { item: I; resolve(result: R): void; reject(err: unknown): void }[] = [];

  constructor(private readonly run: (items: readonly I[]) => Promise<readonly R[]>) {}

  /** Queues `item` for this turn's call of `run`; resolves with its result once that call ended. */
  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    try {
      const results = await this.run(batch.map((q) => q.item));
      if (results.length !== batch.length)
        throw new Error(`a batch of ${batch.length} got ${results.length} results`);
      batch.forEach((q, i) => q.resolve(results[i]!));
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }
}
