import {
  CODE,
  TEXT,
  DossierRecordsReconciler,
  type DossierRecords,
  type ExpectedDossier,
  type FieldRules,
} from '#lgsp/reconciliation';
import { DomainError, type AdminUnits, type CloudEvent } from '#lgsp/contracts';
import { vnTime } from '../core/reconcile-fields.js';
import type { PortalOnlineSubmission } from './external/portal-online-wire.js';
import { toSubmittedEvent } from './online-submission-mapping.js';
import type { PortalClient } from './portal-client.js';
import {
  PORTAL_TARGET,
  portalErasedFields,
  portalFacts,
  toPortalDossier,
  toPortalProgress,
  type PortalDossierDefaults,
} from './portal-mapping.js';
import { ProcedureCatalogue } from './procedure-catalogue.js';

/** What the portal reconciler reads: the bulk export of `PortalClient` (#lgsp/connectors). */
export type PortalExportSource = Pick<PortalClient, 'exportDossiers'> &
  Partial<Pick<PortalClient, 'procedure' | 'lookup'>>;

export interface PortalReconcilerOptions {
  client: PortalExportSource;
  /** Dossiers per export page (the portal serves 1–5000). @defaultValue 5000 */
  pageSize?: number;
  /** Mismatches per yielded batch. @defaultValue 500 */
  batchSize?: number;
  /**
   * The connector's catalogue: the procedures of each exported page are looked up in it before the
   * page is compared, so that what the connector filled from it (`TenTTHC`, `MaLinhVuc`,
   * `TenLinhVuc`, `NgayHenTra`) is expected too. @defaultValue a catalogue over `client` when it
   * can look procedures up (else those fields are expected only where the events carry them)
   */
  catalogue?: Pick<ProcedureCatalogue, 'find' | 'peek'>;
  /** The connector's `dossierDefaults`. @defaultValue {} */
  dossierDefaults?: PortalDossierDefaults;
  /** The administrative units, to place a captured extra (its province from its commune). */
  units?: Pick<AdminUnits, 'provinceOfCommune'>;
}

/** The portal's fields and how each is compared; `TienDo` (progress) is one field, compared as a set. */
export const PORTAL_FIELD_RULES: FieldRules = {
  MaHoSo: TEXT,
  MaTTHC: TEXT,
  TenTTHC: TEXT,
  KenhThucHien: CODE,
  ChuHoSo: TEXT,
  SoGiayToChuHoSo: TEXT,
  DinhDanhCHS: { kind: 'records', fields: { LoaiDinhDanh: CODE, SoDinhDanh: TEXT } },
  TrichYeuHoSo: TEXT,
  NgayTiepNhan: vnTime('portal'),
  NgayHenTra: vnTime('portal'),
  NgayTra: vnTime('portal'),
  TrangThaiHoSo: { kind: 'status' },
  DanhSachLePhi: {
    kind: 'records',
    fields: { MaPhiLePhi: TEXT, TenPhiLePhi: TEXT, Gia: CODE, HinhThucThu: CODE, LoaiPhiLePhi: CODE },
  },
  MaDonVi: CODE,
  MaLinhVuc: TEXT,
  TenLinhVuc: TEXT,
  LoaiDoiTuong: CODE,
  HinhThuc: CODE,
  DonViXuLy: TEXT,
  Email: TEXT,
  SoDienThoai: TEXT,
  NoiNopHoSo: CODE,
  NgayNopHoSo: vnTime('portal'),
  NgayTuChoi: vnTime('portal'),
  TaiKhoanDuocXacThucVoiVNeID: CODE,
  DuocThanhToanTrucTuyen: CODE,
  DSKetNoiCSDL: { kind: 'records', fields: { MaCSDL: TEXT } },
  TaiLieuNop: { kind: 'records', fields: { MaThanhPhanHoSo: TEXT, TenTepDinhKem: TEXT } },
  TienDo: {
    kind: 'records',
    fields: {
      MaHoSo: TEXT,
      NguoiXuLy: TEXT,
      ChucDanh: TEXT,
      ThoiDiemXuLy: vnTime('portal'),
      PhongBanXuLy: TEXT,
      NoiDungXuLy: TEXT,
      TrangThai: { kind: 'status' },
      NgayBatDau: vnTime('portal'),
      NgayKetThucTheoQuyDinh: vnTime('portal'),
    },
  },
};

/**
 * The portal's records as {@link dossierRecordChecks} reads them; the record the portal should hold
 * for a dossier is the portal connector's own mapping (`toPortalDossier`, with the catalogue's
 * cached procedure, and `toPortalProgress` as `TienDo`). A dossier whose log lacks what the
 * connector needs to send it (no submission yet) has none: the connector would not have sent it.
 * After an erasure the expected record holds no personal data; a portal still holding the person's
 * data in one of {@link portalErasedFields} is `not-erased-in-target`.
 */
function portalRecords(options: PortalReconcilerOptions): DossierRecords {
  const { dossierDefaults } = options;
  const catalogue = catalogueOf(options);
  return {
    code: 'MaHoSo',
    unit: 'MaDonVi',
    status: 'TrangThaiHoSo',
    rules: PORTAL_FIELD_RULES,
    expectedRecord: (dossier: ExpectedDossier) => {
      const facts = portalFacts(dossier.events);
      const code = dossier.view.procedureCode;
      const procedure = code === undefined ? undefined : catalogue?.peek(code);
      const record = toPortalDossier(dossier.view, facts, {
        lenient: true,
        ...(procedure === undefined ? {} : { procedure }),
        ...(dossierDefaults === undefined ? {} : { defaults: dossierDefaults }),
      });
      return { ...record, TienDo: toPortalProgress(dossier.dossier, facts) };
    },
    erasedFields: (dossier: ExpectedDossier) => portalErasedFields(dossier.view, portalFacts(dossier.events)),
  };
}

/**
 * Reconciles the national portal through its bulk export (`XuatDanhSachHoSo`), page by page: each
 * exported dossier of the log is compared field by field with {@link expectedPortalRecord}; a
 * dossier of the log the export never showed is `missing-in-target`; an exported dossier the log
 * does not imply is `unexpected-extra` (see `judgesExtra`).
 */
export class PortalReconciler extends DossierRecordsReconciler<PortalReconcilerOptions> {
  readonly target = PORTAL_TARGET;
  protected get records(): DossierRecords {
    return (this.portalRecords ??= portalRecords(this.options));
  }
  private portalRecords: DossierRecords | undefined;
  private catalogue: Pick<ProcedureCatalogue, 'find' | 'peek'> | null | undefined;

  /**
   * A dossier only the portal holds, as the portal's online submission it is (`TraCuuHoSo`, mapped like
   * the online capture: `dossier.submitted` from `/national/portal`, the same event id, so the capture
   * and a later online capture store it once); undefined when the portal no longer holds it.
   */
  async capture(dossier: string, signal?: AbortSignal): Promise<CloudEvent | undefined> {
    const { client, units } = this.options;
    if (client.lookup === undefined || units === undefined)
      throw new DomainError(
        'conflict',
        'this portal reconciler cannot look dossiers up: acknowledge instead',
      );
    const record = await client.lookup(dossier, signal);
    if (record === undefined) return undefined;
    const mapped = toSubmittedEvent(record as unknown as PortalOnlineSubmission, units);
    if ('refusal' in mapped)
      throw new DomainError(
        'invalid',
        `the portal's record of ${dossier} cannot be told as an event (${mapped.refusal.reason}): ${mapped.refusal.detail}`,
      );
    return mapped.event;
  }

  protected async *listPages(signal: AbortSignal | undefined) {
    for (let offset: number | null = 0; offset !== null;) {
      const page = await this.options.client.exportDossiers(offset, this.pageSize, signal);
      await this.warmCatalogue(page.dossiers, signal);
      yield { records: page.dossiers as unknown as Record<string, unknown>[] };
      offset = page.dossiers.length === 0 ? null : page.next;
    }
  }

  /** Looks the page's procedures up, so that the expected records find them cached. */
  private async warmCatalogue(
    dossiers: readonly { MaTTHC?: unknown }[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const catalogue = (this.catalogue ??= catalogueOf(this.options) ?? null);
    if (catalogue === null) return;
    const codes = new Set(dossiers.flatMap((d) => (typeof d.MaTTHC === 'string' ? [d.MaTTHC] : [])));
    for (const code of codes) {
      if (catalogue.peek(code) !== undefined) continue;
      // A procedure that cannot be looked up now leaves its fields out of the expected record.
      await catalogue.find(code, signal).catch(() => undefined);
    }
  }
}

const defaultCatalogues = new WeakMap<PortalReconcilerOptions, ProcedureCatalogue>();

/** The reconciler's catalogue: its option, else one over the client (one per options object). */
function catalogueOf(
  options: PortalReconcilerOptions,
): Pick<ProcedureCatalogue, 'find' | 'peek'> | undefined {
  if (options.catalogue !== undefined) return options.catalogue;
  const client = options.client;
  if (client.procedure === undefined) return undefined;
  let catalogue = defaultCatalogues.get(options);
  if (catalogue === undefined) {
    catalogue = new ProcedureCatalogue({ client: { procedure: client.procedure.bind(client) } });
    defaultCatalogues.set(options, catalogue);
  }
  return catalogue;
}
