import { AdminUnits, type CloudEvent } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { evolveDossier, type DossierView } from '#lgsp/projections';
import { DOSSIER_CODE } from '../core/mapping.testing.js';
import type { OneStopShopStoredDossier } from './external/one-stop-shop-wire.js';
import { oneStopShopRecordEvents } from './one-stop-shop-capture.js';
import { oneStopShopFacts, toOneStopShopDossier, toOneStopShopProgress } from './one-stop-shop-mapping.js';

const units = AdminUnits.sample();

const record = (overrides: Partial<Record<keyof OneStopShopStoredDossier, unknown>> = {}) =>
  ({
    ma_ho_so: DOSSIER_CODE,
    ma_thu_tuc: '1.001193',
    ten_thu_tuc: 'Đăng ký khai sinh',
    kenh_nop: 'BUU_CHINH',
    ho_ten_nguoi_nop: 'Nguyễn Thị Hoà',
    so_giay_to: '051190001234',
    trich_yeu: 'Đăng ký khai sinh cho con',
    ma_don_vi: '21040',
    ngay_nhan: '23/11/2025 09:15:00',
    ngay_hen_tra: '26/11/2025 17:00:00',
    trang_thai: 'CHO_NOP_PHI',
    le_phi: [{ ten: 'Lệ phí hộ tịch', so_tien: 50000 }],
    phien_ban: 9,
    ngay_cap_nhat: '23/11/2025 11:00:00',
    tien_do: [
      {
        can_bo: 'Trần Văn Bình',
        chuc_vu: 'Công chức tư pháp',
        thoi_gian: '23/11/2025 09:20:00',
        noi_dung: 'Đã tiếp nhận hồ sơ',
        trang_thai: 'DA_TIEP_NHAN',
      },
      {
        can_bo: 'Lê Văn Cường',
        phong_ban: 'Tư pháp',
        thoi_gian: '23/11/2025 10:00:00',
        noi_dung: 'Chuyển xử lý',
        trang_thai: 'DANG_XU_LY',
      },
    ],
    ...overrides,
  }) as unknown as OneStopShopStoredDossier;

function told(r: OneStopShopStoredDossier): CloudEvent[] {
  const out = oneStopShopRecordEvents(r, units);
  if ('refusal' in out) throw new Error(out.refusal);
  return out.events;
}

/** The events as the log would hold them, folded into the dossier view. */
function fold(events: readonly CloudEvent[]): { view: DossierView; stored: StoredEvent[] } {
  const stored = events.map(
    (e, i) =>
      ({
        ...e,
        stream: `dossier-${DOSSIER_CODE}`,
        streamVersion: i + 1,
        position: i + 1,
      }) as unknown as StoredEvent,
  );
  let view: DossierView | undefined;
  for (const e of stored) view = evolveDossier(view, e);
  return { view: view!, stored };
}

describe('oneStopShopRecordEvents', () => {
  it('tells the submission, each progress entry and the status reached, from the shop', () => {
    const events = told(record());
    expect(events.map((e) => [e.id, e.source, e.type, (e.data as { status?: number }).status])).toEqual([
      [
        `one-stop-shop:${DOSSIER_CODE}/submitted`,
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.submitted.v1',
        undefined,
      ],
      [
        `one-stop-shop:${DOSSIER_CODE}/progress/0`,
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.status-changed.v1',
        2,
      ],
      [
        `one-stop-shop:${DOSSIER_CODE}/progress/1`,
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.status-changed.v1',
        4,
      ],
      [
        `one-stop-shop:${DOSSIER_CODE}/status/6`,
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.status-changed.v1',
        6,
      ],
    ]);
    expect(events[0]!.data).toEqual({
      dossierCode: DOSSIER_CODE,
      provinceCode: '51',
      communeCode: '21040',
      procedureCode: '1.001193',
      procedureName: 'Đăng ký khai sinh',
      agencyCode: '000.00.51.H56',
      channel: 'postal',
      applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      summary: 'Đăng ký khai sinh cho con',
      receivedAt: '2025-11-23T09:15:00+07:00',
      dueAt: '2025-11-26T17:00:00+07:00',
      fees: [{ name: 'Lệ phí hộ tịch', amount: 50000 }],
    });
    expect(events[2]!.data).toMatchObject({
      previousStatus: 2,
      handler: { name: 'Lê Văn Cường', department: 'Tư pháp' },
    });
    expect(events[3]!.data).toEqual({
      dossierCode: DOSSIER_CODE,
      provinceCode: '51',
      communeCode: '21040',
      status: 6,
      previousStatus: 4,
      changedAt: '2025-11-23T11:00:00+07:00',
    });
  });

  it('round-trips: the connector maps the captured log back to the record the shop holds', () => {
    const r = record();
    const { view, stored } = fold(told(r));
    const state = { dossier: DOSSIER_CODE, view, events: stored };
    const facts = oneStopShopFacts(stored);
    const { phien_ban: _v, ngay_cap_nhat: _u, tien_do, ma_ho_so: _c, ...body } = r;
    expect(toOneStopShopDossier(state, facts)).toEqual({ ...body, phien_ban: view.streamVersion });
    expect(toOneStopShopProgress(state, facts)).toEqual(tien_do);
  });

  it('ends with no extra status change when the progress ends at the record status; NFD comes out NFC', () => {
    const events = told(
      record({
        trang_thai: 'DANG_XU_LY',
        ho_ten_nguoi_nop: 'Nguyễn Thị Hoà'.normalize('NFD'),
        le_phi: [],
        ngay_hen_tra: undefined,
      }),
    );
    expect(events.map((e) => e.id.split('/').slice(1).join('/'))).toEqual([
      'submitted',
      'progress/0',
      'progress/1',
    ]);
    expect((events[0]!.data as { applicant: { fullName: string } }).applicant.fullName).toBe(
      'Nguyễn Thị Hoà',
    );
    expect(events[0]!.data).not.toHaveProperty('fees');
    expect(events[0]!.data).not.toHaveProperty('dueAt');
  });

  it.each([
    [{ ma_ho_so: 'HS-0001' }, /ma_ho_so is not \{agency ID\}/],
    [{ ma_don_vi: '51' }, /ma_don_vi is not a commune/],
    [{ ma_thu_tuc: '' }, /ma_thu_tuc is missing/],
    [{ kenh_nop: 'EMAIL' }, /kenh_nop is not/],
    [{ ho_ten_nguoi_nop: ' ' }, /ho_ten_nguoi_nop is missing/],
    [{ so_giay_to: '1234' }, /so_giay_to is missing or not/],
    [{ ngay_nhan: '2025-11-23T09:15:00+07:00' }, /ngay_nhan is missing or not/],
    [{ ngay_hen_tra: '31/02/2025 17:00:00' }, /ngay_hen_tra is not/],
    [{ trang_thai: 'XONG' }, /trang_thai is not one of/],
    [{ le_phi: [{ ten: 'Lệ phí', so_tien: 1.5 }] }, /le_phi\[0\]/],
    [
      { tien_do: [{ can_bo: '', thoi_gian: '23/11/2025 09:20:00', trang_thai: 'DA_TIEP_NHAN' }] },
      /tien_do\[0\]/,
    ],
    [{ tien_do: [], ngay_cap_nhat: undefined }, /ngay_cap_nhat is not/],
  ])('refuses %j, naming the field and never its value', (overrides, reason) => {
    const out = oneStopShopRecordEvents(record(overrides), units);
    expect(out).toEqual({ refusal: expect.stringMatching(reason) as unknown });
    expect(JSON.stringify(out)).not.toMatch(/Nguyễn|051190001234/);
  });
});
