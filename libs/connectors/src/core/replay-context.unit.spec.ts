import { REPLAY_HEADER, currentReplay, replayHeaders, withReplay } from './replay-context.js';

describe('replay context', () => {
  it('marks every call inside a replay, across awaits, and none outside', async () => {
    expect(replayHeaders()).toEqual({});
    const seen = await withReplay('rp-1', async () => {
      await new Promise((r) => setTimeout(r, 1));
      const inner = await Promise.resolve().then(() => replayHeaders());
      return { inner, id: currentReplay() };
    });
    expect(seen).toEqual({ inner: { [REPLAY_HEADER]: 'rp-1' }, id: 'rp-1' });
    expect(currentReplay()).toBeUndefined();
  });

  it('keeps concurrent replays apart', async () => {
    const ids = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        withReplay(id, async () => {
          await new Promise((r) => setTimeout(r, 3 - id.charCodeAt(0) + 97));
          return currentReplay();
        }),
      ),
    );
    expect(ids).toEqual(['a', 'b', 'c']);
  });
});
