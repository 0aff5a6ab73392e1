import { SimInputError } from '../faults.js';
import { AGENCY_ID, array, PROCEDURE_CODE, record, requiredText } from '../fields.js';

/**
 * A procedure of the portal's catalogue, in the answer shape of `LayThuTuc` (upper-case keys, as
 * OpenCPS reads them: `TENTTHC`, `LINHVUCTHUCHIEN[].MALINHVUC`); the time limits per channel in
 * `CACHTHUCTHUCHIEN[].THOIGIAN[]`.
 */
export interface CatalogueProcedure {
  MATTHC: string;
  TENTTHC: string;
  CAPTHUCHIEN: string;
  LINHVUCTHUCHIEN: { MALINHVUC: string; TENLINHVUC: string }[];
  CACHTHUCTHUCHIEN: { KENH: string; THOIGIAN: { THOIGIANGIAIQUYET: number; DONVITINH: string }[] }[];
}

export interface CatalogueAgency {
  MACOQUAN: string;
  TENCOQUAN: string;
}

const HO_TICH = { MALINHVUC: 'G09-TP01', TENLINHVUC: 'Hộ tịch' };
const CHUNG_THUC = { MALINHVUC: 'G09-TP02', TENLINHVUC: 'Chứng thực' };
const HO_KINH_DOANH = { MALINHVUC: 'G12-KH01', TENLINHVUC: 'Thành lập và hoạt động của hộ kinh doanh' };

function procedure(code: string, name: string, sector: typeof HO_TICH, days: number): CatalogueProcedure {
  const time = [{ THOIGIANGIAIQUYET: days, DONVITINH: 'Ngày làm việc' }];
  return {
    MATTHC: code,
    TENTTHC: name,
    CAPTHUCHIEN: 'Cấp Xã',
    LINHVUCTHUCHIEN: [sector],
    CACHTHUCTHUCHIEN: [
      { KENH: '1', THOIGIAN: time },
      { KENH: '2', THOIGIAN: time },
    ],
  };
}

/**
 * The procedures a commune handles most, with their national codes and statutory time limits
 * (working days). The field codes are illustrative: the portal's own field codes are not public.
 */
export const DEFAULT_PROCEDURES: readonly CatalogueProcedure[] = [
  procedure('1.001193', 'Đăng ký khai sinh', HO_TICH, 1),
  procedure('1.000894', 'Đăng ký kết hôn', HO_TICH, 5),
  procedure('1.004873', 'Cấp Giấy xác nhận tình trạng hôn nhân', HO_TICH, 3),
  procedure('1.000656', 'Đăng ký khai tử', HO_TICH, 1),
  procedure('1.001022', 'Cấp bản sao trích lục hộ tịch', HO_TICH, 1),
  procedure('2.000908', 'Chứng thực bản sao từ bản chính giấy tờ, văn bản', CHUNG_THUC, 1),
  procedure('2.000884', 'Chứng thực chữ ký trong các giấy tờ, văn bản', CHUNG_THUC, 1),
  procedure('2.000720', 'Đăng ký thành lập hộ kinh doanh', HO_KINH_DOANH, 3),
];

export const DEFAULT_AGENCIES: readonly CatalogueAgency[] = [
  { MACOQUAN: '000.00.00.G22', TENCOQUAN: 'Văn phòng Chính phủ' },
  { MACOQUAN: '000.00.00.G09', TENCOQUAN: 'Bộ Tư pháp' },
  { MACOQUAN: '000.00.00.H56', TENCOQUAN: 'UBND tỉnh Khánh Hòa' },
];

/** Validates one procedure of `POST /_sim/catalogue` (the `LayThuTuc` shape). */
export function parseCatalogueProcedure(v: unknown, path: string): CatalogueProcedure {
  const o = record(v, path);
  const sectors = array(o, 'LINHVUCTHUCHIEN', path, true).map((s, i) => {
    const p = `${path}.LINHVUCTHUCHIEN[${i}]`;
    const r = record(s, p);
    return {
      MALINHVUC: requiredText(r, 'MALINHVUC', p, { max: 50 }),
      TENLINHVUC: requiredText(r, 'TENLINHVUC', p, { max: 500 }),
    };
  });
  if (sectors.length === 0) throw new SimInputError(`${path}.LINHVUCTHUCHIEN: at least one field`);
  const ways = array(o, 'CACHTHUCTHUCHIEN', path).map((w, i) => {
    const p = `${path}.CACHTHUCTHUCHIEN[${i}]`;
    const r = record(w, p);
    return {
      KENH: requiredText(r, 'KENH', p, { pattern: /^[123]$/, hint: '"1", "2" or "3"' }),
      THOIGIAN: array(r, 'THOIGIAN', p, true).map((t, j) => {
        const q = `${p}.THOIGIAN[${j}]`;
        const tr = record(t, q);
        const days = tr.THOIGIANGIAIQUYET;
        if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
          throw new SimInputError(`${q}.THOIGIANGIAIQUYET: expected a number above 0`);
        }
        return { THOIGIANGIAIQUYET: days, DONVITINH: requiredText(tr, 'DONVITINH', q, { max: 50 }) };
      }),
    };
  });
  return {
    MATTHC: requiredText(o, 'MATTHC', path, { pattern: PROCEDURE_CODE, hint: 'a procedure code' }),
    TENTTHC: requiredText(o, 'TENTTHC', path, { max: 500 }),
    CAPTHUCHIEN: requiredText(o, 'CAPTHUCHIEN', path, { max: 100 }),
    LINHVUCTHUCHIEN: sectors,
    CACHTHUCTHUCHIEN: ways,
  };
}

/** Validates one agency of `POST /_sim/catalogue`. */
export function parseCatalogueAgency(v: unknown, path: string): CatalogueAgency {
  const o = record(v, path);
  return {
    MACOQUAN: requiredText(o, 'MACOQUAN', path, { pattern: AGENCY_ID, hint: 'an agency ID' }),
    TENCOQUAN: requiredText(o, 'TENCOQUAN', path, { max: 500 }),
  };
}
