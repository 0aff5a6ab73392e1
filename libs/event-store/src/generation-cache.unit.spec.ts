import { GenerationCache } from './generation-cache.js';

describe('GenerationCache', () => {
  it('keeps at most its capacity, dropping the least recently used generation', () => {
    const cache = new GenerationCache<number>(4);
    for (let i = 1; i <= 6; i++) cache.set(`s${i}`, i);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(cache.get('s6')).toBe(6);
    expect(cache.get('s5')).toBe(5);
    expect(cache.get('s1')).toBeUndefined();
  });

  it('keeps a stream that is read again, even when it was in the older generation', () => {
    const cache = new GenerationCache<number>(4);
    cache.set('hot', 1);
    cache.set('a', 1);
    cache.set('b', 1); // 'hot' and 'a' move to the older generation
    expect(cache.get('hot')).toBe(1); // moved forward
    cache.set('c', 1);
    cache.set('d', 1); // the generation holding 'a' is dropped
    expect(cache.get('hot')).toBe(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('updates, deletes and clears', () => {
    const cache = new GenerationCache<number>(10);
    cache.set('s', 1);
    cache.set('s', 2);
    expect(cache.get('s')).toBe(2);
    cache.delete('s');
    expect(cache.get('s')).toBeUndefined();
    cache.set('t', 1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('deletes the entries a test picks, in both generations, with number keys too', () => {
    const cache = new GenerationCache<{ stream: string }, number>(4);
    for (let position = 1; position <= 4; position++)
      cache.set(position, { stream: position % 2 === 0 ? 'even' : 'odd' });
    // 1 and 2 are in the older generation now, 3 and 4 in the current one.
    cache.deleteWhere((e) => e.stream === 'even');
    expect([1, 2, 3, 4].map((p) => cache.get(p)?.stream)).toEqual(['odd', undefined, 'odd', undefined]);
  });
});
