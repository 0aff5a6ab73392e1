/**
 * What a commune one-stop shop handles: procedures with their national codes, fees and time limits,
 * and the people who apply and handle them. Fee amounts follow the national fee schedules where one
 * applies (certified copies 2,000 VND a page, signature certification 10,000 VND, civil-status
 * extracts 8,000 VND a copy); local fees are typical values.
 */

/** The national procedure code of birth registration; its dossiers pass through the civil registry. */
export const BIRTH_REGISTRATION = '1.001193';

export interface Procedure {
  code: string;
  name: string;
  /** Working days the commune has to return the result. */
  days: number;
  /** The official who handles it at the commune. */
  handlerTitle: string;
  /** The fees of one dossier; an empty list means no fee (the lifecycle skips "fee due"). */
  fees: (rng: { int(min: number, max: number): number }) => { code: string; name: string; amount: number }[];
  /** A one-line summary (TrichYeuHoSo) given the applicant's name. */
  summary: (applicant: string) => string;
  /** How often it occurs among the dossiers that are not birth registrations. */
  weight: number;
}

const TU_PHAP = 'Công chức tư pháp - hộ tịch';
const VAN_PHONG = 'Công chức văn phòng - thống kê';
const KINH_TE = 'Công chức kinh tế';

export const BIRTH_PROCEDURE: Procedure = {
  code: BIRTH_REGISTRATION,
  name: 'Đăng ký khai sinh',
  days: 1,
  handlerTitle: TU_PHAP,
  // Registration is free; copies of the birth extract are not.
  fees: (rng) => {
    const copies = rng.int(0, 3);
    return copies === 0
      ? []
      : [{ code: 'PTL', name: `Phí cấp bản sao trích lục khai sinh (${copies} bản)`, amount: 8000 * copies }];
  },
  summary: (a) => `Đăng ký khai sinh cho con của ông/bà ${a}`,
  weight: 0,
};

/** Procedures other than birth registration. */
export const PROCEDURES: readonly Procedure[] = [
  {
    code: '2.000908',
    name: 'Chứng thực bản sao từ bản chính giấy tờ, văn bản',
    days: 1,
    handlerTitle: TU_PHAP,
    fees: (rng) => {
      const pages = rng.int(1, 12);
      return [{ code: 'LPCT', name: `Phí chứng thực bản sao (${pages} trang)`, amount: 2000 * pages }];
    },
    summary: (a) => `Chứng thực bản sao giấy tờ của ông/bà ${a}`,
    weight: 30,
  },
  {
    code: '2.000884',
    name: 'Chứng thực chữ ký trong các giấy tờ, văn bản',
    days: 1,
    handlerTitle: TU_PHAP,
    fees: () => [{ code: 'LPCK', name: 'Phí chứng thực chữ ký', amount: 10000 }],
    summary: (a) => `Chứng thực chữ ký của ông/bà ${a} trên giấy ủy quyền`,
    weight: 15,
  },
  {
    code: '1.000894',
    name: 'Đăng ký kết hôn',
    days: 5,
    handlerTitle: TU_PHAP,
    fees: () => [],
    summary: (a) => `Đăng ký kết hôn của ông/bà ${a}`,
    weight: 8,
  },
  {
    code: '1.004873',
    name: 'Cấp Giấy xác nhận tình trạng hôn nhân',
    days: 3,
    handlerTitle: TU_PHAP,
    fees: () => [{ code: 'LPXN', name: 'Lệ phí cấp giấy xác nhận tình trạng hôn nhân', amount: 15000 }],
    summary: (a) => `Xác nhận tình trạng hôn nhân cho ông/bà ${a}`,
    weight: 12,
  },
  {
    code: '1.000656',
    name: 'Đăng ký khai tử',
    days: 1,
    handlerTitle: TU_PHAP,
    fees: () => [],
    summary: (a) => `Đăng ký khai tử, người đi khai: ông/bà ${a}`,
    weight: 5,
  },
  {
    code: '2.000720',
    name: 'Đăng ký thành lập hộ kinh doanh',
    days: 3,
    handlerTitle: KINH_TE,
    fees: () => [{ code: 'LPHKD', name: 'Lệ phí đăng ký hộ kinh doanh', amount: 100000 }],
    summary: (a) => `Đăng ký hộ kinh doanh do ông/bà ${a} làm chủ`,
    weight: 10,
  },
  {
    code: '1.001022',
    name: 'Cấp bản sao trích lục hộ tịch',
    days: 1,
    handlerTitle: VAN_PHONG,
    fees: (rng) => {
      const copies = rng.int(1, 4);
      return [{ code: 'PTL', name: `Phí cấp bản sao trích lục (${copies} bản)`, amount: 8000 * copies }];
    },
    summary: (a) => `Cấp bản sao trích lục hộ tịch cho ông/bà ${a}`,
    weight: 20,
  },
];

export const FAMILY_NAMES = [
  'Nguyễn',
  'Trần',
  'Lê',
  'Phạm',
  'Hoàng',
  'Huỳnh',
  'Phan',
  'Vũ',
  'Võ',
  'Đặng',
  'Bùi',
  'Đỗ',
  'Hồ',
  'Ngô',
  'Dương',
  'Lý',
  'Đinh',
  'Trương',
  'Lương',
  'Mai',
] as const;
export const MIDDLE_NAMES_MALE = [
  'Văn',
  'Hữu',
  'Đức',
  'Minh',
  'Quốc',
  'Thanh',
  'Công',
  'Xuân',
  'Gia',
] as const;
export const MIDDLE_NAMES_FEMALE = ['Thị', 'Ngọc', 'Thu', 'Minh', 'Thanh', 'Hoài', 'Bảo', 'Kim'] as const;
export const GIVEN_NAMES_MALE = [
  'An',
  'Bình',
  'Cường',
  'Dũng',
  'Đạt',
  'Đức',
  'Hải',
  'Hiếu',
  'Hùng',
  'Khánh',
  'Long',
  'Nam',
  'Phong',
  'Phúc',
  'Quân',
  'Sơn',
  'Thắng',
  'Tuấn',
  'Việt',
  'Vinh',
] as const;
export const GIVEN_NAMES_FEMALE = [
  'Anh',
  'Chi',
  'Đào',
  'Giang',
  'Hà',
  'Hạnh',
  'Hoà',
  'Hương',
  'Lan',
  'Linh',
  'Mai',
  'Ngân',
  'Nhung',
  'Phương',
  'Quỳnh',
  'Thảo',
  'Trang',
  'Tuyết',
  'Vy',
  'Yến',
] as const;

/**
 * Place-of-registration prefixes of 12-digit citizen IDs (the old 63-province list): Hà Nội,
 * Tuyên Quang, Thanh Hoá, Nghệ An, Đà Nẵng, Quảng Ngãi, Gia Lai, Đắk Lắk, TP Hồ Chí Minh, An Giang, Cần Thơ.
 */
export const ID_PLACE_CODES = [
  '001',
  '008',
  '038',
  '040',
  '048',
  '051',
  '064',
  '066',
  '079',
  '089',
  '092',
] as const;

export const BANK_CODES = ['VCB', 'BIDV', 'CTG', 'AGR', 'TCB', 'MB', 'ACB', 'VPB'] as const;

export const RECEPTION_DEPARTMENT = 'Bộ phận tiếp nhận và trả kết quả';
export const RECEPTION_TITLE = 'Công chức một cửa';
export const SIGNER_TITLE = 'Phó Chủ tịch UBND';

export const REJECTION_REASONS = [
  'Thành phần hồ sơ không đầy đủ theo quy định',
  'Hồ sơ không thuộc thẩm quyền giải quyết của UBND cấp xã',
  'Giấy tờ tùy thân của người nộp hồ sơ đã hết hạn',
] as const;
export const SUPPLEMENT_REQUESTS = [
  'Đề nghị bổ sung bản sao giấy tờ tùy thân của người đi đăng ký',
  'Đề nghị bổ sung giấy chứng sinh (bản chính)',
  'Đề nghị bổ sung văn bản ủy quyền có chứng thực',
] as const;
export const WITHDRAWAL_NOTES = [
  'Công dân đề nghị rút hồ sơ',
  'Công dân rút hồ sơ để nộp lại tại nơi cư trú khác',
] as const;
export const PAYMENT_FAILURES = [
  'Giao dịch bị từ chối',
  'Tài khoản không đủ số dư',
  'Hết thời gian thanh toán',
] as const;
