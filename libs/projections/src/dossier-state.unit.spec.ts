import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { evolveDossier, readDossierState, type DossierView } from '#lgsp/projections';
import { SUBMITTED_DATA, storedDossierEvent } from './dossier-events.testing.js';

const CODE = '000.00.15.H51-250701-0002';

const event = (version: number, type: string, data: object): StoredEvent =>
  storedDossierEvent(CODE, {
    position: 100 + version,
    version,
    type,
    data,
    time: '2025-07-01T08:00:00+07:00',
    recordedAt: `2025-07-01T01:00:0${version % 10}.000Z`,
  });

const submitted = event(1, 'vn.gov.lgsp.dossier.submitted.v1', { ...SUBMITTED_DATA, fees: [] });
const status = (version: number, s: number) =>
  event(version, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status: s,
    changedAt: '2025-07-01T09:00:00+07:00',
    handler: { name: 'Trần Văn Bình' },
  });
/** An event of another type on the dossier's stream: read, not folded. */
const note = (version: number) => event(version, 'vn.gov.lgsp.test.note.v1', {});

/** A stream store that records the pages asked for. */
function storeOf(events: readonly StoredEvent[]) {
  const reads: { fromVersion: number; limit: number }[] = [];
  const store: Pick<EventStore, 'readStream'> = {
    readStream: async (stream, options = {}) => {
      const fromVersion = options.fromVersion ?? 1;
      const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
      reads.push({ fromVersion, limit });
      return events.filter((e) => e.stream === stream && e.streamVersion >= fromVersion).slice(0, limit);
    },
  };
  return { store, reads };
}

const fold = (events: readonly StoredEvent[]) =>
  events.reduce<DossierView | undefined>((view, e) => evolveDossier(view, e), undefined);

describe('readDossierState', () => {
  const log = [submitted, status(2, 2), note(3), status(4, 4), status(5, 6)];
  const folded = [submitted, status(2, 2), status(4, 4), status(5, 6)];

  it('folds the events of the view’s types of the whole stream, page by page', async () => {
    const { store, reads } = storeOf(log);
    const state = await readDossierState(store, CODE, { pageSize: 2 });
    expect(state).toEqual({ dossier: CODE, view: fold(folded), events: folded });
    expect(reads.map((r) => r.fromVersion)).toEqual([1, 3, 5]);
  });

  it('stops at a stream version, without asking for more than it needs', async () => {
    const { store, reads } = storeOf(log);
    const state = await readDossierState(store, CODE, { throughVersion: 3, pageSize: 2 });
    expect(state?.view.status).toBe(2);
    expect(state?.events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(reads).toEqual([
      { fromVersion: 1, limit: 2 },
      { fromVersion: 3, limit: 1 },
    ]);
  });

  it('is undefined for a stream without an event of the view', async () => {
    expect(await readDossierState(storeOf([]).store, CODE)).toBeUndefined();
    expect(await readDossierState(storeOf([note(1)]).store, CODE)).toBeUndefined();
  });

  it('carries a state read before up to the end of the stream', async () => {
    const before = await readDossierState(storeOf(log).store, CODE, { throughVersion: 2 });
    const { store, reads } = storeOf(log);
    const state = await readDossierState(store, CODE, { after: before! });
    expect(state).toEqual({ dossier: CODE, view: fold(folded), events: folded });
    expect(reads[0]?.fromVersion).toBe(3);
  });

  it('returns a state read before as it is when the stream has nothing later', async () => {
    const before = await readDossierState(storeOf(log).store, CODE);
    expect(await readDossierState(storeOf(log).store, CODE, { after: before! })).toBe(before);
  });
});
