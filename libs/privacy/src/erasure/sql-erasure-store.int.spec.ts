import { BACKENDS, type BackendData } from '#lgsp/storage/testing';
import { ERASURES_COMPONENT, type ErasureRecord } from './model.js';
import { SqlErasureStore } from './sql-erasure-store.js';

const record = (id: string, overrides: Partial<ErasureRecord> = {}): ErasureRecord => ({
  id,
  state: 'requested',
  subjectRef: 'q4Z1kS0yq1m2Vh3Zp0aX9nQfL7cR2tW8uE5yB6dN4oI',
  subject: '*********123',
  requestedBy: 'ops',
  requestedAt: '2026-12-04T03:00:00.000Z',
  deadlines: {
    acknowledgeBy: '2026-12-08T16:59:59.999Z',
    completeBy: '2026-12-24T03:00:00.000Z',
    thirdParties: false,
  },
  exemptions: [],
  ...overrides,
});

describe.each(BACKENDS)('SqlErasureStore on $name', (backend) => {
  let data: BackendData;
  let store: SqlErasureStore;

  beforeEach(async () => {
    data = await backend.create();
    store = await SqlErasureStore.open(await data.connect());
  });

  afterEach(async () => {
    await data.close();
  });

  it('keeps requests as written, versioned, and seen by another connection', async () => {
    const full = record('er_1', {
      note: 'thư',
      exemptions: [{ procedure: '2.000001', basis: 'Luật Hộ tịch' }],
    });
    await store.create(full);
    const db = await data.connect();
    const again = await SqlErasureStore.open(db);
    expect(await again.get('er_1')).toEqual(full);
    expect(await again.get('er_2')).toBeUndefined();
    expect((await db.versions()).find((v) => v.component === ERASURES_COMPONENT)).toEqual({
      component: ERASURES_COMPONENT,
      version: 1,
    });
    await expect(store.create(full)).rejects.toThrow();
  });

  it('lists in id order by pages', async () => {
    for (const id of ['er_3', 'er_1', 'er_2']) await store.create(record(id));
    expect((await store.list({ limit: 2 })).map((r) => r.id)).toEqual(['er_1', 'er_2']);
    expect((await store.list({ limit: 2, after: 'er_2' })).map((r) => r.id)).toEqual(['er_3']);
  });

  it('decides a request once: an update from a state it left changes nothing', async () => {
    await store.create(record('er_1'));
    const refused = record('er_1', { state: 'refused', refusal: { basis: 'Luật 91/2025' } });
    expect(await store.update(refused, 'requested')).toBe(true);
    expect(await store.update(record('er_1', { state: 'erased' }), 'requested')).toBe(false);
    expect(await store.get('er_1')).toEqual(refused);
  });

  it('records dossier ends by position, whatever the order they are seen in', async () => {
    await store.recordEnd({ dossierCode: 'D1', endedAt: null, position: 9 });
    await store.recordEnd({ dossierCode: 'D1', endedAt: '2026-01-10T02:00:00.000Z', position: 5 });
    expect(await store.end('D1')).toEqual({ dossierCode: 'D1', endedAt: null, position: 9 });
    await store.recordEnd({ dossierCode: 'D2', endedAt: '2026-01-10T02:00:00.000Z', position: 7 });
    await store.recordEnd({ dossierCode: 'D3', endedAt: '2026-02-10T02:00:00.000Z', position: 8 });
    expect(await store.endedBefore('2026-01-31T00:00:00.000Z', 10)).toEqual([
      { dossierCode: 'D2', endedAt: '2026-01-10T02:00:00.000Z', position: 7 },
    ]);
    await store.markChecked({ dossierCode: 'D2', endedAt: '2026-01-10T02:00:00.000Z', position: 7 }, 'now');
    expect(await store.endedBefore('2026-03-01T00:00:00.000Z', 10)).toEqual([
      { dossierCode: 'D3', endedAt: '2026-02-10T02:00:00.000Z', position: 8 },
    ]);
    // A later end of D2 is checked again.
    await store.recordEnd({ dossierCode: 'D2', endedAt: '2026-02-01T02:00:00.000Z', position: 12 });
    expect((await store.endedBefore('2026-03-01T00:00:00.000Z', 10)).map((e) => e.dossierCode)).toEqual([
      'D2',
      'D3',
    ]);
  });
});
