import { TurnBatch } from './turn-batch.js';

describe('TurnBatch', () => {
  it('runs the calls of one turn together and gives each caller its own result', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch<number, string>(async (items) => {
      runs.push([...items]);
      return items.map((i) => `r${i}`);
    });
    const first = await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
    const second = await batch.add(4);
    expect(first).toEqual(['r1', 'r2', 'r3']);
    expect(second).toBe('r4');
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it("fails every call of the turn with the run's error, and runs the next turn again", async () => {
    let fail = true;
    const batch = new TurnBatch<number, number>(async (items) => {
      if (fail) throw new Error('disk full');
      return [...items];
    });
    const settled = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batch.add(3)).resolves.toBe(3);
  });

  it('refuses a run that answers a different number of results than items', async () => {
    const batch = new TurnBatch<number, number>(async () => [1]);
    const settled = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  });
});
