import { contractSuite, type StoreHarness } from '#lgsp/storage/testing';
import { open, seal } from '../cipher.js';
import type { SubjectKeyProvider } from '../subject-keys.js';

const STREAM = 'dossier-000.00.51.H56-251123-0001';

/** The behaviour every SubjectKeyProvider shares; the SQL store runs it on SQLite (file, memory) and PostgreSQL. */
export const describeSubjectKeyProviderContract = contractSuite<StoreHarness<SubjectKeyProvider>>(
  'SubjectKeyProvider',
  (h) => {
    it('names a subject by a reference that is stable, the same in every instance, and hides the ID', async () => {
      const ref = h.store.ref('051190001234');
      expect(ref).toBe(h.store.ref('051190001234'));
      expect(ref).not.toBe(h.store.ref('051190001235'));
      expect(ref).not.toContain('051190001234');
      expect((await h.another()).ref('051190001234')).toBe(ref);
    });

    it('makes one key per subject for concurrent calls, and keeps it for later ones', async () => {
      const ref = h.store.ref('051190001234');
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.store.sealingKeys([{ ref, stream: `dossier-${i % 3}` }])),
      );
      const kids = new Set(answers.map((a) => a.get(ref)!.kid));
      expect(kids.size).toBe(1);
      expect((await h.store.sealingKeys([{ ref }])).get(ref)!.kid).toBe([...kids][0]);
      expect(await h.store.state(ref)).toEqual({ ref, keys: 1, destroyed: 0 });
      expect(await h.store.streams(ref)).toEqual(['dossier-0', 'dossier-1', 'dossier-2']);
    });

    it('agrees on one key across instances on the same data (replicas), whatever the order of their calls', async () => {
      const other = await h.another();
      const refs = Array.from({ length: 30 }, (_, i) =>
        h.store.ref(`0511900012${String(i).padStart(2, '0')}`),
      );
      const calls = Array.from({ length: 10 }, (_, i) => {
        const store = i % 2 === 0 ? h.store : other;
        const order = i % 3 === 0 ? [...refs].reverse() : refs;
        return store.sealingKeys(order.map((ref) => ({ ref, stream: STREAM })));
      });
      const answers = await Promise.all(calls);
      for (const ref of refs) {
        expect(new Set(answers.map((a) => a.get(ref)!.kid)).size).toBe(1);
        expect(await other.state(ref)).toMatchObject({ keys: 1, destroyed: 0 });
      }
      expect(await other.subjectsIn(STREAM)).toEqual([...refs].sort());
    });

    it('makes keys for more subjects than one statement takes, and links each once', async () => {
      const refs = Array.from({ length: 1000 }, (_, i) => h.store.ref(`subject-${i}`));
      const keys = await h.store.sealingKeys(refs.map((ref) => ({ ref, stream: STREAM })));
      expect(keys.size).toBe(1000);
      expect(new Set([...keys.values()].map((k) => k.kid)).size).toBe(1000);
      const opened = await h.store.openingKeys([...keys.values()].map((k) => k.kid));
      expect([...opened.values()].every((k) => k !== null)).toBe(true);
      expect((await h.store.subjectsOf([...keys.values()].map((k) => k.kid))).size).toBe(1000);
      expect(await h.store.subjectsIn(STREAM)).toHaveLength(1000);
      expect(await h.store.sealingKeys([])).toEqual(new Map());
    });

    it('opens with the key it seals with, in another instance too; an unknown kid is null', async () => {
      const ref = h.store.ref('051190001234');
      const { kid, key } = (await h.store.sealingKeys([{ ref }])).get(ref)!;
      const sealed = seal(kid, key, 'Nguyễn Thị Hoà');
      const other = await h.another();
      const opened = await other.openingKeys([kid, kid, 'unknown']);
      expect(opened.size).toBe(2);
      expect(open(sealed, opened.get(kid)!)).toBe('Nguyễn Thị Hoà');
      expect(opened.get('unknown')).toBeNull();
      expect(await other.subjectsOf([kid, 'unknown'])).toEqual(new Map([[kid, ref]]));
    });

    it('destroys every key of a subject: its kids read null; new data gets a new key, the old stays destroyed', async () => {
      const ref = h.store.ref('051190001234');
      const keep = h.store.ref('051085004321');
      const first = await h.store.sealingKeys([
        { ref, stream: STREAM },
        { ref: keep, stream: STREAM },
      ]);
      const kid = first.get(ref)!.kid;
      expect((await h.store.openingKeys([kid])).get(kid)).not.toBeNull();
      const state = await h.store.destroy(ref);
      expect(state).toEqual({ ref, keys: 1, destroyed: 1, destroyedAt: expect.any(String) });
      expect(Number.isNaN(Date.parse(state.destroyedAt!))).toBe(false);
      expect((await h.store.openingKeys([kid])).get(kid)).toBeNull();
      expect((await h.store.openingKeys([first.get(keep)!.kid])).get(first.get(keep)!.kid)).not.toBeNull();
      // Destroying again changes nothing; a subject never seen has no keys.
      expect(await h.store.destroy(ref)).toEqual(state);
      expect(await h.store.destroy(h.store.ref('nobody'))).toEqual({
        ref: h.store.ref('nobody'),
        keys: 0,
        destroyed: 0,
      });
      expect(await h.store.state(h.store.ref('nobody'))).toBeUndefined();

      const next = (await h.store.sealingKeys([{ ref, stream: 'dossier-later' }])).get(ref)!;
      expect(next.kid).not.toBe(kid);
      expect((await h.store.openingKeys([kid, next.kid])).get(kid)).toBeNull();
      expect(await h.store.state(ref)).toMatchObject({ keys: 2, destroyed: 1 });
      expect(await h.store.streams(ref)).toEqual([STREAM, 'dossier-later']);
      expect(await h.store.subjectsOf([kid, next.kid])).toEqual(
        new Map([
          [kid, ref],
          [next.kid, ref],
        ]),
      );
    });

    it('never seals with a key another instance destroyed', async () => {
      const other = await h.another();
      const ref = h.store.ref('051190001234');
      const { kid } = (await h.store.sealingKeys([{ ref }])).get(ref)!;
      await other.destroy(ref);
      const again = (await h.store.sealingKeys([{ ref }])).get(ref)!;
      expect(again.kid).not.toBe(kid);
      expect((await other.openingKeys([again.kid])).get(again.kid)).not.toBeNull();
    });
  },
);
