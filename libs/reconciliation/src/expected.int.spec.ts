import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { expectedDossiers } from './expected.js';
import { newCode, statusEvent, submittedEvent, toAppend } from '../../../test/support/dossier-log.js';

let dir: string;
let store: SqliteEventStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-expected-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('expectedDossiers over a SQLite log', () => {
  it('folds each dossier across pages of the global log and keeps those in scope', async () => {
    const a = newCode();
    const b = newCode();
    const other = newCode();
    await store.append([toAppend(a, submittedEvent(a)), toAppend(b, submittedEvent(b))]);
    await store.append([toAppend(other, submittedEvent(other, { communeCode: '21043' }))]);
    // An event of another kind in the same stream is not part of the view.
    await store.append([
      toAppend(a, { type: 'vn.gov.lgsp.dossier.note-added.v1', data: { dossierCode: a } }),
    ]);
    await store.append([toAppend(a, statusEvent(a, 2, 1)), toAppend(b, statusEvent(b, 2, 1))]);
    await store.append([toAppend(a, statusEvent(a, 4, 2))]);
    const head = (await store.head()).position;
    let pages = 0;

    const all = await expectedDossiers(store, {}, { pageSize: 2, onPage: () => pages++ });

    expect(all.logPosition).toBe(head);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...all.dossiers.keys()].sort()).toEqual([a, b, other].sort());
    const folded = all.dossiers.get(a)!;
    expect(folded.view).toMatchObject({ dossierCode: a, status: 4, eventCount: 3 });
    expect(folded.events.map((e) => e.type)).toEqual([
      'vn.gov.lgsp.dossier.submitted.v1',
      'vn.gov.lgsp.dossier.status-changed.v1',
      'vn.gov.lgsp.dossier.status-changed.v1',
    ]);

    const commune = await expectedDossiers(store, { communeCode: '21040' }, { pageSize: 2 });
    expect([...commune.dossiers.keys()].sort()).toEqual([a, b].sort());
    expect((await expectedDossiers(store, { provinceCode: '51' })).dossiers.size).toBe(3);
    expect((await expectedDossiers(store, { provinceCode: '01' })).dossiers.size).toBe(0);
    expect([...(await expectedDossiers(store, { dossiers: [b, 'unknown'] })).dossiers.keys()]).toEqual([b]);
  });

  it('folds v1 and v2 submissions alike, and leaves out one it cannot read, as the projection does', async () => {
    const [v1, v2, broken] = [newCode(), newCode(), newCode()];
    const { applicant, ...common } = submittedEvent(v2).data as Record<string, unknown>;
    await store.append([
      toAppend(v1, submittedEvent(v1)),
      toAppend(v2, {
        type: 'vn.gov.lgsp.dossier.submitted.v2',
        data: { ...common, persons: [{ role: 'applicant', ...(applicant as object), documents: [] }] },
      }),
      toAppend(broken, {
        type: 'vn.gov.lgsp.dossier.submitted.v1',
        data: { ...common, dossierCode: broken },
      }),
      toAppend(broken, statusEvent(broken, 2, 1)),
    ]);
    const all = await expectedDossiers(store, {});
    expect(all.dossiers.get(v1)!.view.applicant).toEqual(all.dossiers.get(v2)!.view.applicant);
    expect(all.dossiers.get(broken)!.view).toMatchObject({ status: 2, eventCount: 1 });
    expect(all.dossiers.get(broken)!.events.map((e) => e.type)).toEqual([
      'vn.gov.lgsp.dossier.status-changed.v1',
    ]);
  });

  it('judges the time window on the recordedAt of the last event, and reads up to a position', async () => {
    const a = newCode();
    await store.append([toAppend(a, submittedEvent(a))]);
    const first = (await store.head()).position;
    await store.append([toAppend(a, statusEvent(a, 2, 1))]);
    const { dossiers } = await expectedDossiers(store, {});
    const last = Date.parse(dossiers.get(a)!.view.lastChangedAt);

    const iso = (ms: number) => new Date(ms).toISOString();
    expect((await expectedDossiers(store, { from: iso(last) })).dossiers.size).toBe(1);
    expect((await expectedDossiers(store, { from: iso(last + 1) })).dossiers.size).toBe(0);
    expect((await expectedDossiers(store, { to: iso(last) })).dossiers.size).toBe(0);
    expect((await expectedDossiers(store, { to: iso(last + 1) })).dossiers.size).toBe(1);

    const earlier = await expectedDossiers(store, {}, { upTo: first });
    expect(earlier.logPosition).toBe(first);
    expect(earlier.dossiers.get(a)!.view.eventCount).toBe(1);
  });

  it('stops when aborted', async () => {
    const a = newCode();
    await store.append([toAppend(a, submittedEvent(a))]);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(expectedDossiers(store, {}, { signal: controller.signal })).rejects.toThrow('stopped');
  });
});
