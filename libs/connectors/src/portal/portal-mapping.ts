import { applicantOf, type DossierStatusChanged, type DossierSubmittedV2 } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import type { DossierView } from '#lgsp/projections';
import { dossierFacts, submissionData, type DossierFacts } from '../core/dossier-facts.js';
import { isErased, unlessErased } from '../core/erasure.js';
import { mappingError } from '../core/errors.js';
import { toTargetTime } from '../core/vn-time.js';
import type {
  PortalCode,
  PortalDossierRecord,
  PortalFee,
  PortalProgressRecord,
} from './external/portal-wire.js';

/** The target name of the national portal in parking, breaker, logs and errors. */
export const PORTAL_TARGET = 'portal';

/** The portal's summary field holds about 1,000 characters. */
export const MAX_SUMMARY_CHARS = 1000;
/** `NguoiXuLy` holds at most 50 characters. */
export const MAX_HANDLER_CHARS = 50;

/**
 * What the portal needs beyond the {@link DossierView}: the {@link DossierFacts} (its `returnedAt` is
 * the portal's `NgayTra`) and the portal's own facts of the submission (sector, applicant type and
 * contact, the 2024 schema's fields), taken from the dossier's own events by {@link portalFacts}.
 */
export interface PortalFacts extends DossierFacts {
  sector?: { code: string; name: string };
  applicantType?: NonNullable<DossierSubmittedV2['applicantType']>;
  email?: string;
  phone?: string;
  submittedAt?: string;
  identityVerified?: boolean;
  onlinePayment?: boolean;
  connectedDatabases?: readonly string[];
  documents?: readonly { code?: string; name: string }[];
  /** The submission's fees with how each is collected and what kind it is. */
  feeDetails?: readonly { kind?: 'charge' | 'fee'; collection?: 'in-person' | 'online' }[];
  /** When the status last became 3 (rejected at intake), while it is 3. */
  rejectedAt?: string;
  /** Per progress record (same order): when its step began and had to end. */
  steps?: readonly { startedAt?: string; dueAt?: string }[];
}

/** Folds a dossier's events (in stream order) into the {@link PortalFacts}. Pure. */
export function portalFacts(events: readonly Pick<StoredEvent, 'type' | 'data'>[]): PortalFacts {
  const facts: { -readonly [K in keyof PortalFacts]: PortalFacts[K] } = { ...dossierFacts(events) };
  const steps: { startedAt?: string; dueAt?: string }[] = [];
  let previousAt: string | undefined;
  for (const e of events) {
    const d = submissionData(e);
    if (d !== undefined) {
      const applicant = applicantOf(d);
      facts.sector = d.sector;
      facts.applicantType = d.applicantType;
      facts.email = applicant?.email;
      facts.phone = applicant?.phone;
      facts.submittedAt = d.submittedAt;
      facts.identityVerified = d.identityVerified;
      facts.onlinePayment = d.onlinePayment;
      facts.connectedDatabases = d.connectedDatabases;
      facts.documents = d.documents;
      facts.feeDetails = (d.fees ?? []).map((f) => ({
        ...(f.kind === undefined ? {} : { kind: f.kind }),
        ...(f.collection === undefined ? {} : { collection: f.collection }),
      }));
      previousAt = d.receivedAt;
    } else if (e.type === 'vn.gov.lgsp.dossier.status-changed.v1') {
      const d = e.data as DossierStatusChanged;
      facts.rejectedAt = d.status === 3 ? d.changedAt : undefined;
      if (d.handler !== undefined) {
        const startedAt = d.stepStartedAt ?? previousAt;
        steps.push({
          ...(startedAt === undefined ? {} : { startedAt }),
          ...(d.stepDueAt === undefined ? {} : { dueAt: d.stepDueAt }),
        });
      }
      previousAt = d.changedAt;
    }
  }
  facts.steps = steps;
  return stripUndefined(facts);
}

/**
 * A procedure as the portal's catalogue (`LayThuTuc`) describes it: its name, its fields (sectors)
 * and the time limit to return a result.
 */
export interface PortalProcedure {
  code: string;
  name: string;
  sectors: readonly { code: string; name: string }[];
  /** The time limit: `days` calendar days, or working days (Monday–Friday; holidays not known). */
  timeLimit?: { days: number; working: boolean };
}

/**
 * What a deployment configures for the fields its events may not carry (hub-config
 * `connectors.portal.dossierDefaults`). Every one is used only when the dossier's events lack it.
 */
export interface PortalDossierDefaults {
  /** `LoaiDoiTuong` when the event has no `applicantType`. @defaultValue "1" (citizen) */
  applicantType?: PortalCode;
  /** `HinhThuc`, whose meaning is not public (unconfirmed). @defaultValue "0" */
  hinhThuc?: PortalCode;
  /** `Email` when the applicant gave none: the receiving office's address. No default. */
  email?: string;
  /** `SoDienThoai` when the applicant gave none: the receiving office's number. No default. */
  phone?: string;
}

/**
 * The defaults when a deployment configures none: a citizen, `HinhThuc` "0", and placeholder
 * contacts (a reserved `.invalid` domain, ten zeros) that keep the mandatory fields filled. A
 * deployment sets its receiving office's contact instead (hub-config `dossierDefaults`).
 */
export const DEFAULT_PORTAL_DOSSIER_DEFAULTS = {
  applicantType: '1',
  hinhThuc: '0',
  email: 'no-reply@lgsp-hub.invalid',
  phone: '0000000000',
} as const satisfies PortalDossierDefaults;

/** What {@link toPortalDossier} reads beyond the view and the facts. */
export interface PortalMappingContext {
  /** The procedure from the portal's catalogue, to fill what the events lack. */
  procedure?: PortalProcedure;
  /** Replaces {@link DEFAULT_PORTAL_DOSSIER_DEFAULTS} as a whole (a key left out has no default). */
  defaults?: PortalDossierDefaults;
  /**
   * Leaves a catalogue field out instead of refusing the dossier when neither the events nor
   * `procedure` have it (reconciliation, which cannot call the catalogue for every dossier).
   */
  lenient?: boolean;
}

/** Which catalogue facts the dossier's events lack (the connector looks the procedure up for them). */
export function needsCatalogue(view: DossierView, facts: PortalFacts): boolean {
  return view.procedureName === undefined || facts.sector === undefined || view.dueAt === undefined;
}

const APPLICANT_TYPES = { citizen: '1', business: '2', agency: '3', other: '4' } as const;
const FEE_KINDS = { charge: '1', fee: '2' } as const;
const COLLECTIONS = { 'in-person': '1', online: '2' } as const;

const CHANNELS = { 'in-person': 1, online: 2, postal: 3 } as const;

/**
 * The `DongBoHoSoMC` record of a dossier: its projected state in the portal's fields. Texts are
 * NFC; times are `yyyyMMddHHmmss` in Vietnam local time; a dossier without a status change yet is
 * 1 (new submission). Personal values read `[erased]` after an erasure: the name is sent as
 * `[erased]`, an erased ID is left out and an erased contact replaced (see {@link portalErasedFields}).
 * Pure.
 * @throws ConnectorError (`data`, `mapping`) when a field the portal requires is missing or a time
 *   is not RFC 3339 (never because a value was erased).
 */
export function toPortalDossier(
  view: DossierView,
  facts: PortalFacts,
  context: PortalMappingContext = {},
): PortalDossierRecord {
  const code = view.dossierCode;
  const missing = (field: string, from: string) =>
    mappingError(PORTAL_TARGET, `dossier ${code}: ${field} is required (${from} is missing)`);
  const { procedure, defaults = DEFAULT_PORTAL_DOSSIER_DEFAULTS, lenient = false } = context;
  if (view.procedureCode === undefined) throw missing('MaTTHC', 'procedureCode');
  if (view.channel === undefined) throw missing('KenhThucHien', 'channel');
  if (view.applicant === undefined) throw missing('ChuHoSo', 'applicant');
  if (view.receivedAt === undefined) throw missing('NgayTiepNhan', 'receivedAt');
  const unknown = (field: string, from: string, what: string) =>
    mappingError(
      PORTAL_TARGET,
      `dossier ${code}: ${field} is required (the events have no ${from} and the portal's catalogue no ${what})`,
    );
  const procedureName = view.procedureName ?? procedure?.name;
  if (procedureName === undefined && !lenient) throw unknown('TenTTHC', 'procedureName', 'name');
  const sector = facts.sector ?? procedure?.sectors[0];
  if (sector === undefined && !lenient) throw unknown('MaLinhVuc', 'sector', 'field');
  const dueAt = view.dueAt ?? dueFromCatalogue(view.receivedAt, procedure);
  if (dueAt === undefined && !lenient) throw unknown('NgayHenTra', 'dueAt', 'time limit');
  // An erased contact cannot be sent as "[erased]" (the portal checks its format): the configured
  // office contact replaces it, else the placeholder, so that an erasure never parks a dossier.
  const email = isErased(facts.email)
    ? (defaults.email ?? DEFAULT_PORTAL_DOSSIER_DEFAULTS.email)
    : (facts.email ?? defaults.email);
  if (email === undefined || email === '') {
    throw missing('Email', 'applicant.email, and no default e-mail is configured,');
  }
  const phone = isErased(facts.phone)
    ? (defaults.phone ?? DEFAULT_PORTAL_DOSSIER_DEFAULTS.phone)
    : (facts.phone ?? defaults.phone);
  if (phone === undefined || phone === '') {
    throw missing('SoDienThoai', 'applicant.phone, and no default phone is configured,');
  }
  const status = view.status ?? 1;
  if (!Number.isInteger(status) || status < 1 || status > 10) {
    throw mappingError(PORTAL_TARGET, `dossier ${code}: status ${status} is not 1–10`);
  }
  const time = (t: string, field: string) => toPortalTime(t, field, code);
  const record: PortalDossierRecord = stripUndefined({
    MaHoSo: code,
    MaTTHC: view.procedureCode,
    TenTTHC: procedureName === undefined ? undefined : nfc(procedureName),
    MaLinhVuc: sector?.code,
    TenLinhVuc: sector === undefined ? undefined : nfc(sector.name),
    KenhThucHien: CHANNELS[view.channel],
    ChuHoSo: nfc(view.applicant.fullName),
    LoaiDoiTuong:
      facts.applicantType === undefined
        ? (defaults.applicantType ?? '1')
        : APPLICANT_TYPES[facts.applicantType],
    HinhThuc: defaults.hinhThuc ?? '0',
    DonViXuLy: view.currentAgencyCode ?? view.agencyCode,
    Email: email,
    SoDienThoai: phone,
    DinhDanhCHS: [],
    NgayTiepNhan: time(view.receivedAt, 'NgayTiepNhan'),
    NgayNopHoSo: time(facts.submittedAt ?? view.receivedAt, 'NgayNopHoSo'),
    NoiNopHoSo: view.channel === 'online' ? '2' : '1',
    NgayHenTra: dueAt === undefined ? undefined : time(dueAt, 'NgayHenTra'),
    TrangThaiHoSo: status,
    DanhSachLePhi: facts.fees.map((fee, i) => toPortalFee(fee, facts.feeDetails?.[i])),
    DanhSachGiayToKetQua: [],
    MaDonVi: view.communeCode,
    TaiKhoanDuocXacThucVoiVNeID: flag(facts.identityVerified),
    DuocThanhToanTrucTuyen: flag(facts.onlinePayment),
    DSKetNoiCSDL: facts.connectedDatabases?.map((c) => ({ MaCSDL: c })),
    TaiLieuNop: facts.documents?.map((d) => ({
      ...(d.code === undefined ? {} : { MaThanhPhanHoSo: d.code }),
      TenTepDinhKem: nfc(d.name),
    })),
  }) as PortalDossierRecord;
  if (record.DonViXuLy === undefined) throw missing('DonViXuLy', 'agencyCode');
  // An erased ID is left out: `DinhDanhCHS` takes only 12- or 9-digit numbers, and the portal searches
  // dossiers by `SoGiayToChuHoSo`. The record is sent whole, so the portal's copy loses both.
  // Every citizen and legacy ID of the applicant (dossier.submitted.v2 may carry several).
  const id = unlessErased(facts.applicantIdNumber);
  if (id !== undefined && id !== '') {
    record.SoGiayToChuHoSo = id;
    const ids = (facts.applicantIds ?? [id]).filter((n) => /^([0-9]{12}|[0-9]{9})$/.test(n));
    record.DinhDanhCHS = (ids.length > 0 ? ids : [id]).map((n) => ({
      LoaiDinhDanh: n.length === 9 ? 2 : 1,
      SoDinhDanh: n,
    }));
  }
  if (facts.summary !== undefined && facts.summary !== '') {
    record.TrichYeuHoSo = truncate(nfc(facts.summary), MAX_SUMMARY_CHARS);
  }
  if (status === 10 && facts.returnedAt !== undefined) record.NgayTra = time(facts.returnedAt, 'NgayTra');
  if (status === 3 && facts.rejectedAt !== undefined)
    record.NgayTuChoi = time(facts.rejectedAt, 'NgayTuChoi');
  return record;
}

/**
 * The portal fields {@link toPortalDossier} fills from personal values the hub erased: they hold no
 * personal data once the record is sent again (`ChuHoSo` "[erased]", `SoGiayToChuHoSo` and
 * `DinhDanhCHS` left out, `Email` and `SoDienThoai` the office contact). Reconciliation reports a portal
 * still holding something else there as not erased, without recording what it holds. Pure.
 */
export function portalErasedFields(view: DossierView, facts: PortalFacts): string[] {
  const fields: string[] = [];
  if (isErased(view.applicant?.fullName)) fields.push('ChuHoSo');
  if (isErased(facts.applicantIdNumber)) fields.push('SoGiayToChuHoSo', 'DinhDanhCHS');
  if (isErased(facts.email)) fields.push('Email');
  if (isErased(facts.phone)) fields.push('SoDienThoai');
  // The summary names the applicant: it is sealed with the applicant's data.
  if (isErased(facts.summary)) fields.push('TrichYeuHoSo');
  return fields;
}

/**
 * The due date a procedure's time limit gives a dossier received at `receivedAt`: that many
 * calendar days later, or working days (Saturdays and Sundays skipped; public holidays are not
 * known to the hub), at the same time of day. Undefined without a time limit.
 */
export function dueFromCatalogue(
  receivedAt: string,
  procedure: PortalProcedure | undefined,
): string | undefined {
  const limit = procedure?.timeLimit;
  const start = Date.parse(receivedAt);
  if (limit === undefined || Number.isNaN(start)) return undefined;
  const DAY = 86_400_000;
  let at = start;
  if (!limit.working) at += limit.days * DAY;
  else {
    // Week days in Vietnam local time (UTC+7).
    for (let left = limit.days; left > 0;) {
      at += DAY;
      const weekday = new Date(at + 7 * 3_600_000).getUTCDay();
      if (weekday !== 0 && weekday !== 6) left--;
    }
  }
  return new Date(at).toISOString();
}

/** The `CapNhatTienDoHoSoMC` records of a dossier, oldest first. Pure. */
export function toPortalProgress(dossierCode: string, facts: PortalFacts): PortalProgressRecord[] {
  return facts.progress.map((p, i) => {
    const r: PortalProgressRecord = {
      MaHoSo: dossierCode,
      NguoiXuLy: truncate(nfc(p.handler.name), MAX_HANDLER_CHARS),
      ThoiDiemXuLy: toPortalTime(p.changedAt, 'ThoiDiemXuLy', dossierCode),
      TrangThai: p.status,
    };
    if (p.handler.title !== undefined) r.ChucDanh = nfc(p.handler.title);
    if (p.handler.department !== undefined) r.PhongBanXuLy = nfc(p.handler.department);
    if (p.note !== undefined) r.NoiDungXuLy = nfc(p.note);
    const step = facts.steps?.[i];
    if (step?.startedAt !== undefined) r.NgayBatDau = toPortalTime(step.startedAt, 'NgayBatDau', dossierCode);
    if (step?.dueAt !== undefined) {
      r.NgayKetThucTheoQuyDinh = toPortalTime(step.dueAt, 'NgayKetThucTheoQuyDinh', dossierCode);
    }
    return r;
  });
}

/**
 * An RFC 3339 time (any offset) as the portal writes it: `yyyyMMddHHmmss` in Vietnam local time
 * (UTC+7, no daylight saving), without an offset; fractions of a second are dropped.
 * @throws ConnectorError (`data`, `mapping`) when `time` is not RFC 3339.
 */
export function toPortalTime(time: string, field = 'time', dossierCode?: string): string {
  return toTargetTime(PORTAL_TARGET, 'portal', time, field, dossierCode);
}

function toPortalFee(
  fee: PortalFacts['fees'][number],
  detail: NonNullable<PortalFacts['feeDetails']>[number] | undefined,
): PortalFee {
  return {
    ...(fee.code === undefined ? {} : { MaPhiLePhi: fee.code }),
    TenPhiLePhi: nfc(fee.name),
    // The real clients send amounts as strings of digits.
    Gia: String(fee.amount),
    ...(detail?.collection === undefined ? {} : { HinhThucThu: COLLECTIONS[detail.collection] }),
    ...(detail?.kind === undefined ? {} : { LoaiPhiLePhi: FEE_KINDS[detail.kind] }),
  };
}

/** A yes/no of the 2024 schema: "1" or "0"; undefined when the hub does not know. */
const flag = (v: boolean | undefined): PortalCode | undefined =>
  v === undefined ? undefined : v ? '1' : '0';

/** `o` without its undefined properties. */
function stripUndefined<T extends object>(o: T): T {
  // A loop, not entries/filter/fromEntries: it runs for every dossier a sync or a reconciliation maps.
  const out: Record<string, unknown> = {};
  for (const key in o) {
    const value = o[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

const nfc = (s: string): string => s.normalize('NFC');

/** At most `max` code points, so a surrogate pair is never split. */
function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max).join('');
}
