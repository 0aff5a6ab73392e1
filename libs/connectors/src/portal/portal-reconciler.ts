import {
  CODE,
  TEXT,
  DossierRecordsReconciler,
  type DossierRecords,
  type ExpectedDossier,
  type FieldRules,
} from '#lgsp/reconciliation';
import { vnTime } from '../core/reconcile-fields.js';
import type { PortalClient } from './portal-client.js';
import { PORTAL_TARGET, portalFacts, toPortalDossier, toPortalProgress } from './portal-mapping.js';

/** What the portal reconciler reads: the bulk export of `PortalClient` (#lgsp/connectors). */
export type PortalExportSource = Pick<PortalClient, 'exportDossiers'>;

export interface PortalReconcilerOptions {
  client: PortalExportSource;
  /** Dossiers per export page (the portal serves 1–5000). @defaultValue 5000 */
  pageSize?: number;
  /** Mismatches per yielded batch. @defaultValue 500 */
  batchSize?: number;
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
  DanhSachLePhi: { kind: 'records', fields: { MaPhiLePhi: TEXT, TenPhiLePhi: TEXT, Gia: CODE } },
  MaDonVi: CODE,
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
    },
  },
};

/**
 * The record the portal should hold for a dossier: the portal connector's own mapping
 * (`toPortalDossier` and `toPortalProgress` as `TienDo`).
 * @throws ConnectorError (`mapping`) when the log lacks what the connector needs to send it (no
 * submission yet): the connector would not have sent it either.
 */
function expectedPortalRecord(dossier: ExpectedDossier): Record<string, unknown> {
  const facts = portalFacts(dossier.events);
  return { ...toPortalDossier(dossier.view, facts), TienDo: toPortalProgress(dossier.dossier, facts) };
}

/** The portal's records as {@link dossierRecordChecks} reads them. */
const PORTAL_RECORDS: DossierRecords = {
  code: 'MaHoSo',
  unit: 'MaDonVi',
  status: 'TrangThaiHoSo',
  rules: PORTAL_FIELD_RULES,
  expectedRecord: expectedPortalRecord,
};

/**
 * Reconciles the national portal through its bulk export (`XuatDanhSachHoSo`), page by page: each
 * exported dossier of the log is compared field by field with {@link expectedPortalRecord}; a
 * dossier of the log the export never showed is `missing-in-target`; an exported dossier the log
 * does not imply is `unexpected-extra` (see `judgesExtra`).
 */
export class PortalReconciler extends DossierRecordsReconciler<PortalReconcilerOptions> {
  readonly target = PORTAL_TARGET;
  protected readonly records = PORTAL_RECORDS;

  protected async *listPages(signal: AbortSignal | undefined) {
    for (let offset: number | null = 0; offset !== null;) {
      const page = await this.options.client.exportDossiers(offset, this.pageSize, signal);
      yield { records: page.dossiers as unknown as Record<string, unknown>[] };
      offset = page.dossiers.length === 0 ? null : page.next;
    }
  }
}
