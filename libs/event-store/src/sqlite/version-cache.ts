/**
 * Bounded cache of stream versions in two generations: entries live in `current`; when it reaches
 * half the capacity it becomes `previous` and a new `current` starts. A hit in `previous` moves
 * the entry forward. Recently used streams stay cached, and nothing is ever iterated: evicting
 * from the front of one big Map (`keys().next()` after many deletes) walks V8's deleted-entry
 * holes and costs more the longer it runs.
 */
export class StreamVersionCache {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  get(stream: string): number | undefined {
    const hit = this.current.get(stream);
    if (hit !== undefined) return hit;
    const old = this.previous.get(stream);
    if (old !== undefined) this.set(stream, old);
    return old;
  }

  set(stream: string, version: number): void {
    if (!this.current.has(stream) && this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(stream, version);
  }

  delete(stream: string): void {
    this.current.delete(stream);
    this.previous.delete(stream);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
