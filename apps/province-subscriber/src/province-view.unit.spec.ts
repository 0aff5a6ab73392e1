import type { ProvinceEvent } from './cloudevent-message.js';
import { evolve, isDuplicate, ProvinceView, STATUS_CHANGED_TYPE } from './province-view.js';

const DOSSIER = '000.00.15.H55-250701-0001';
const SOURCE = '/communes/21040/one-stop-shop';

function event(
  position: number,
  streamVersion: number,
  overrides: Partial<ProvinceEvent> = {},
): ProvinceEvent {
  return {
    source: SOURCE,
    id: `event-${position}`,
    type: 'vn.gov.lgsp.dossier.submitted.v1',
    dossierCode: DOSSIER,
    position,
    streamVersion,
    data: { dossierCode: DOSSIER, provinceCode: '51', communeCode: '21040' },
    ...overrides,
  };
}

const statusChanged = (position: number, streamVersion: number, status: number): ProvinceEvent =>
  event(position, streamVersion, {
    type: STATUS_CHANGED_TYPE,
    data: {
      dossierCode: DOSSIER,
      provinceCode: '51',
      communeCode: '21040',
      status,
      changedAt: '2025-07-01T09:15:00+07:00',
    },
  });

describe('evolve', () => {
  it('starts a dossier with its first event, without a status', () => {
    expect(evolve(undefined, event(10, 1))).toEqual({
      status: null,
      lastPosition: 10,
      streamVersion: 1,
      eventCount: 1,
      lastEventType: 'vn.gov.lgsp.dossier.submitted.v1',
      seen: new Map([[SOURCE, new Set(['event-10'])]]),
    });
  });

  it('takes the status of status-changed events, and keeps it through other events', () => {
    let dossier = evolve(undefined, event(10, 1));
    dossier = evolve(dossier, statusChanged(12, 2, 2));
    dossier = evolve(dossier, statusChanged(15, 3, 4));
    dossier = evolve(
      dossier,
      event(20, 4, { type: 'vn.gov.lgsp.payment.completed.v1', source: '/payments' }),
    );
    expect(dossier).toMatchObject({ status: 4, lastPosition: 20, streamVersion: 4, eventCount: 4 });
    expect(dossier.lastEventType).toBe('vn.gov.lgsp.payment.completed.v1');
    expect(dossier.seen.get('/payments')).toEqual(new Set(['event-20']));
  });

  it('counts an older event without going back in status or position', () => {
    const newer = evolve(evolve(undefined, statusChanged(12, 1, 2)), statusChanged(15, 2, 9));
    const after = evolve(newer, statusChanged(13, 1, 5));
    expect(after).toMatchObject({ status: 9, lastPosition: 15, streamVersion: 2, eventCount: 3 });
    expect(isDuplicate(after, { source: SOURCE, id: 'event-13' })).toBe(true);
  });

  it('ignores a status outside the national codes, and counts unknown types', () => {
    const dossier = evolve(evolve(undefined, statusChanged(12, 1, 4)), statusChanged(13, 2, 11));
    expect(dossier.status).toBe(4);
    const later = evolve(dossier, event(14, 3, { type: 'vn.gov.lgsp.dossier.archived.v1' }));
    expect(later).toMatchObject({
      status: 4,
      eventCount: 3,
      lastEventType: 'vn.gov.lgsp.dossier.archived.v1',
    });
  });

  it('does not change the state it was given', () => {
    const before = evolve(undefined, event(10, 1));
    evolve(before, statusChanged(12, 2, 4));
    expect(before).toMatchObject({ status: null, eventCount: 1 });
    expect(before.seen.get(SOURCE)).toEqual(new Set(['event-10']));
  });
});

describe('isDuplicate', () => {
  const dossier = evolve(undefined, event(10, 1));

  it('is true for the same (source, id), whatever the position', () => {
    expect(isDuplicate(dossier, { source: SOURCE, id: 'event-10' })).toBe(true);
  });

  it('is false for the same id from another source, or a new id', () => {
    expect(isDuplicate(dossier, { source: '/communes/21041/one-stop-shop', id: 'event-10' })).toBe(false);
    expect(isDuplicate(dossier, { source: SOURCE, id: 'event-11' })).toBe(false);
    expect(isDuplicate(undefined, { source: SOURCE, id: 'event-10' })).toBe(false);
  });
});

describe('ProvinceView', () => {
  it('applies events once: a redelivered or replayed event is dropped', () => {
    const view = new ProvinceView('51');
    expect(view.apply(event(10, 1)).outcome).toBe('applied');
    expect(view.apply(statusChanged(12, 2, 4)).outcome).toBe('applied');
    // The relay restarted and sent position 12 again; then an operator replayed the dossier.
    expect(view.apply(statusChanged(12, 2, 4)).outcome).toBe('duplicate');
    expect(view.apply(event(10, 1)).outcome).toBe('duplicate');
    const result = view.apply(statusChanged(12, 2, 4));
    expect(result).toEqual({ outcome: 'duplicate', dossier: view.dossier(DOSSIER) });
    expect(view.dossier(DOSSIER)).toMatchObject({ status: 4, lastPosition: 12, eventCount: 2 });
    expect(view.toJSON().totals).toEqual({ applied: 2, duplicates: 3, rejected: 0 });
  });

  it('keeps dossiers apart', () => {
    const view = new ProvinceView('51');
    view.apply(event(10, 1));
    view.apply(
      event(11, 1, { dossierCode: 'OTHER-1', id: 'event-10', source: '/communes/21041/one-stop-shop' }),
    );
    expect(view.dossierCount).toBe(2);
    expect(view.dossier('OTHER-1')).toMatchObject({ eventCount: 1, lastPosition: 11 });
  });

  it('writes and reads back its JSON form', () => {
    const view = new ProvinceView('51');
    view.apply(event(10, 1));
    view.apply(statusChanged(12, 2, 4));
    view.apply(event(13, 3, { source: '/payments', id: 'PAY-1', type: 'vn.gov.lgsp.payment.completed.v1' }));
    view.reject();
    const json = JSON.parse(JSON.stringify(view));
    expect(json).toEqual({
      province: '51',
      totals: { applied: 3, duplicates: 0, rejected: 1 },
      dossiers: {
        [DOSSIER]: {
          status: 4,
          lastPosition: 13,
          streamVersion: 3,
          eventCount: 3,
          lastEventType: 'vn.gov.lgsp.payment.completed.v1',
          seen: { [SOURCE]: ['event-10', 'event-12'], '/payments': ['PAY-1'] },
        },
      },
    });
    const restored = ProvinceView.fromJSON(json);
    expect(restored.toJSON()).toEqual(json);
    expect(restored.apply(statusChanged(12, 2, 4)).outcome).toBe('duplicate');
  });

  it('names the first value that does not fit when reading a view', () => {
    expect(() => ProvinceView.fromJSON([])).toThrow('view: $ must be an object');
    const json = new ProvinceView('51').toJSON();
    expect(() => ProvinceView.fromJSON({ ...json, totals: { ...json.totals, applied: -1 } })).toThrow(
      'view: $.totals.applied must be a count',
    );
    const dossier = {
      status: null,
      lastPosition: 1,
      streamVersion: 1,
      eventCount: 1,
      lastEventType: 't',
      seen: { s: 'x' },
    };
    expect(() => ProvinceView.fromJSON({ ...json, dossiers: { D: dossier } })).toThrow(
      'view: $.dossiers["D"].seen must be arrays of ids by source',
    );
  });
});
