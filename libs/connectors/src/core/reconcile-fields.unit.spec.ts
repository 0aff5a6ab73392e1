import { CODE, TEXT, canonical, differences, statusCategory } from '#lgsp/reconciliation';
import { expectedOf, newCode, statusEvent, submittedEvent } from '../../../../test/support/dossier-log.js';
import { OSS_STATUS } from '../one-stop-shop/external/one-stop-shop-wire.js';
import { vnTime } from './reconcile-fields.js';

// The generic comparison is specified in libs/reconciliation (compare.unit.spec.ts); these are its
// rules as the Vietnam systems need them: their time formats and the one-stop-shop's status names.
describe("normalisation of the Vietnam systems' fields before comparing", () => {
  it("maps the one-stop-shop's status names to their codes, and a code to itself", () => {
    const rule = { kind: 'status', names: OSS_STATUS } as const;
    expect(canonical('DANG_XU_LY', rule)).toBe(4);
    expect(canonical('4', rule)).toBe(4);
    expect(differences({ trang_thai: 'DANG_XU_LY' }, { trang_thai: '4' }, { trang_thai: rule })).toEqual([]);
    expect(
      differences({ trang_thai: 'DANG_XU_LY' }, { trang_thai: 'DA_TIEP_NHAN' }, { trang_thai: rule }),
    ).toHaveLength(1);
  });

  it('compares times as instants: another format of the same instant is equal, another instant is not', () => {
    const rule = { NgayTiepNhan: vnTime('portal') };
    expect(
      differences({ NgayTiepNhan: '20251123091500' }, { NgayTiepNhan: '23/11/2025 09:15:00' }, rule),
    ).toEqual([]);
    expect(
      differences({ NgayTiepNhan: '20251123091500' }, { NgayTiepNhan: '2025-11-23T02:15:00Z' }, rule),
    ).toEqual([]);
    expect(
      differences({ NgayTiepNhan: '20251123091500' }, { NgayTiepNhan: '23/11/2025 09:15:00 AM' }, rule),
    ).toEqual([]);
    expect(
      differences({ NgayTiepNhan: '20251123091500' }, { NgayTiepNhan: '20251123091501' }, rule),
    ).toHaveLength(1);
    expect(differences({ NgayTiepNhan: '20251123091500' }, { NgayTiepNhan: 'hôm qua' }, rule)).toHaveLength(
      1,
    );
  });

  it('compares lists of records as sets, each record normalised, ignoring order and repeats', () => {
    const rule = {
      TienDo: {
        kind: 'records',
        fields: { NguoiXuLy: TEXT, ThoiDiemXuLy: vnTime('portal'), TrangThai: CODE },
      },
    } as const;
    const a = { NguoiXuLy: 'Trần Văn Bình', ThoiDiemXuLy: '20251123100000', TrangThai: 2 };
    const b = { NguoiXuLy: 'Lê Thị Mai', ThoiDiemXuLy: '20251123110000', TrangThai: 4 };
    const bNfd = {
      NguoiXuLy: b.NguoiXuLy.normalize('NFD'),
      ThoiDiemXuLy: '23/11/2025 11:00:00',
      TrangThai: '4',
    };
    expect(differences({ TienDo: [a, b] }, { TienDo: [bNfd, a, a] }, rule)).toEqual([]);
    expect(differences({ TienDo: [a, b] }, { TienDo: [a] }, rule)).toEqual([
      { field: 'TienDo', expected: [a, b], actual: [a] },
    ]);
  });

  it('takes absent, null, empty text and an empty list as no value', () => {
    expect(
      differences({ NgayTra: undefined, DinhDanhCHS: [] }, { NgayTra: '', DinhDanhCHS: null }, {}),
    ).toEqual([]);
    expect(differences({ NgayTra: '20251123091500' }, {}, { NgayTra: vnTime('portal') })).toEqual([
      { field: 'NgayTra', expected: '20251123091500', actual: null },
    ]);
  });
});

describe('status categories of status names', () => {
  const code = newCode();
  const dossier = expectedOf(code, [submittedEvent(code), statusEvent(code, 2, 1), statusEvent(code, 4, 2)]);

  it('calls an earlier status name stale and any other wrong', () => {
    expect(statusCategory(dossier, 'DA_TIEP_NHAN', OSS_STATUS)).toBe('stale-status');
    expect(statusCategory(dossier, 'DA_XU_LY_XONG', OSS_STATUS)).toBe('wrong-field');
  });
});
