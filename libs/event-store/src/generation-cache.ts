/**
 * Bounded cache by key (stream versions, stream owners) in two generations: entries live in `current`; when it reaches
 * half the capacity it becomes `previous` and a new `current` starts. A hit in `previous` moves
 * the entry forward. Recently used keys stay cached, and nothing is ever iterated: evicting
 * from the front of one big Map (`keys().next()` after many deletes) walks V8's deleted-entry
 * holes and costs more the longer it runs.
 */
export class GenerationCache<V, K = string> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  get(key: K): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (!this.current.has(key) && this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  delete(key: K): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  /** Deletes every entry `test` picks (a walk over all of them: for rare clean-ups). */
  deleteWhere(test: (value: V, key: K) => boolean): void {
    for (const generation of [this.current, this.previous])
      for (const [key, value] of generation) if (test(value, key)) generation.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
