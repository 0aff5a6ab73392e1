import {
  CODE,
  MismatchBatcher,
  TEXT,
  canonical,
  differences,
  earlierStatuses,
  judgesExtra,
  statusCategory,
} from './compare.js';
import { expectedOf, newCode, statusEvent, submittedEvent } from '../../../test/support/dossier-log.js';

describe('normalisation before comparing', () => {
  it('takes a name in NFD as the same name in NFC', () => {
    const nfc = 'Nguyễn Thị Hoà';
    expect(nfc.normalize('NFD')).not.toBe(nfc);
    expect(differences({ ChuHoSo: nfc }, { ChuHoSo: nfc.normalize('NFD') }, { ChuHoSo: TEXT })).toEqual([]);
  });

  it('keeps "Hoá" and "Hóa" apart: both are NFC, and different names', () => {
    expect(differences({ ChuHoSo: 'Hoá' }, { ChuHoSo: 'Hóa' }, { ChuHoSo: TEXT })).toEqual([
      { field: 'ChuHoSo', expected: 'Hoá', actual: 'Hóa' },
    ]);
  });

  it('takes a numeric string code as the number', () => {
    expect(canonical('2', CODE)).toBe(2);
    expect(
      differences({ KenhThucHien: 2, MaDonVi: '21040' }, { KenhThucHien: '2', MaDonVi: 21040 }, {}),
    ).toEqual([
      { field: 'KenhThucHien', expected: 2, actual: '2' },
      { field: 'MaDonVi', expected: '21040', actual: 21040 },
    ]);
    expect(
      differences(
        { KenhThucHien: 2, MaDonVi: '21040' },
        { KenhThucHien: '2', MaDonVi: 21040 },
        {
          KenhThucHien: CODE,
          MaDonVi: CODE,
        },
      ),
    ).toEqual([]);
  });

  it("does not compare a system's bookkeeping fields", () => {
    expect(
      differences({ a: 1 }, { a: 1, ngay_cap_nhat: '23/11/2025 10:00:00' }, {}, ['ngay_cap_nhat']),
    ).toEqual([]);
    expect(differences({ a: 1 }, { a: 1, other: 'x' }, {})).toEqual([
      { field: 'other', expected: null, actual: 'x' },
    ]);
  });
});

describe('lists of records', () => {
  const rules = {
    TienDo: {
      kind: 'records' as const,
      fields: {
        ThoiDiem: { kind: 'time' as const, instant: (t: string) => Date.parse(t) || undefined },
        Buoc: CODE,
      },
    },
  };
  const step = (at: string, n: number | string, extra: Record<string, unknown> = {}) => ({
    ThoiDiem: at,
    Buoc: n,
    ...extra,
  });
  const A = '2025-11-23T09:00:00+07:00';
  const B = '2025-11-23T10:00:00+07:00';

  it('finds identical lists equal, an undefined field counting as absent', () => {
    const expected = { TienDo: [step(A, 1, { GhiChu: undefined }), step(B, 2)] };
    expect(differences(expected, { TienDo: [step(A, 1), step(B, 2)] }, rules)).toEqual([]);
  });

  it('still compares them as sets under their rules when they are not identical', () => {
    const expected = { TienDo: [step(A, 1), step(B, 2)] };
    // Another order, a numeric string, another writing of the same instant: equal.
    const same = { TienDo: [step('2025-11-23T03:00:00Z', 2), step(A, '1')] };
    expect(differences(expected, same, rules)).toEqual([]);
  });

  it('reports a list whose one field differs, or that holds one more field', () => {
    const expected = { TienDo: [step(A, 1), step(B, 2)] };
    expect(differences(expected, { TienDo: [step(A, 1), step(B, 3)] }, rules).map((d) => d.field)).toEqual([
      'TienDo',
    ]);
    const more = { TienDo: [step(A, 1), step(B, 2, { GhiChu: 'x' })] };
    expect(differences(expected, more, rules).map((d) => d.field)).toEqual(['TienDo']);
  });
});

describe('status categories', () => {
  const code = newCode();
  const dossier = expectedOf(code, [submittedEvent(code), statusEvent(code, 2, 1), statusEvent(code, 4, 2)]);

  it('knows the statuses the dossier had before its current one, 1 included', () => {
    expect([...earlierStatuses(dossier)].sort()).toEqual([1, 2]);
  });

  it('calls an earlier status stale and any other wrong', () => {
    expect(statusCategory(dossier, 2)).toBe('stale-status');
    expect(statusCategory(dossier, '1')).toBe('stale-status');
    expect(statusCategory(dossier, 9)).toBe('wrong-field');
  });
});

describe('judgesExtra', () => {
  const communes = new Set(['21040']);

  it('judges every record of an empty scope', () => {
    expect(judgesExtra({}, 'X', undefined, communes)).toBe(true);
  });

  it('judges none under a time window', () => {
    expect(judgesExtra({ from: '2025-11-23T00:00:00Z' }, 'X', '21040', communes)).toBe(false);
    expect(judgesExtra({ to: '2025-11-23T00:00:00Z' }, 'X', '21040', communes)).toBe(false);
  });

  it('judges only the listed codes of a dossier list', () => {
    expect(judgesExtra({ dossiers: ['X'] }, 'X', undefined, communes)).toBe(true);
    expect(judgesExtra({ dossiers: ['X'] }, 'Y', undefined, communes)).toBe(false);
  });

  it("judges by the record's unit code under a province or commune", () => {
    expect(judgesExtra({ communeCode: '21040' }, 'X', '21040', communes)).toBe(true);
    expect(judgesExtra({ communeCode: '21040' }, 'X', '21043', communes)).toBe(false);
    expect(judgesExtra({ provinceCode: '51' }, 'X', '51', communes)).toBe(true);
    expect(judgesExtra({ provinceCode: '51' }, 'X', '21040', communes)).toBe(true);
    expect(judgesExtra({ provinceCode: '51' }, 'X', '00001', communes)).toBe(false);
    expect(judgesExtra({ provinceCode: '51' }, 'X', undefined, communes)).toBe(false);
  });
});

describe('MismatchBatcher', () => {
  it('hands out full batches, then the rest', () => {
    const batcher = new MismatchBatcher('portal', { now: () => Date.parse('2025-11-23T10:00:00+07:00') }, 2);
    for (let i = 0; i < 5; i++) batcher.add(`D${i}`, '*', null, null, 'missing-in-target');
    expect([...batcher.take()].map((b) => b.length)).toEqual([2, 2]);
    expect([...batcher.take(true)].map((b) => b.map((m) => m.dossier))).toEqual([['D4']]);
    expect([...batcher.take(true)]).toEqual([]);
  });
});
