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
import { OSS_STATUS } from './external/one-stop-shop-wire.js';
import { oneStopShopRecordEvents } from './one-stop-shop-capture.js';
import { ONE_STOP_SHOP_MAX_PAGE_SIZE, type OneStopShopClient } from './one-stop-shop-client.js';
import {
  ONE_STOP_SHOP_TARGET,
  oneStopShopErasedFields,
  oneStopShopFacts,
  toOneStopShopDossier,
  toOneStopShopProgress,
} from './one-stop-shop-mapping.js';

export interface OneStopShopReconcilerOptions {
  client: Pick<OneStopShopClient, 'listDossiers'> & Partial<Pick<OneStopShopClient, 'getDossier'>>;
  /** Dossiers per `DanhSachHoSo` page (the shop serves at most 2000). @defaultValue 2000 */
  pageSize?: number;
  /** Mismatches per yielded batch. @defaultValue 500 */
  batchSize?: number;
  /** The administrative units, to place a captured extra (its province from its commune). */
  units?: Pick<AdminUnits, 'provinceOfCommune'>;
}

const STATUS = { kind: 'status', names: OSS_STATUS } as const;

/** The shop's fields and how each is compared; `tien_do` (progress) is one field, compared as a set. */
export const ONE_STOP_SHOP_FIELD_RULES: FieldRules = {
  ma_ho_so: TEXT,
  ma_thu_tuc: TEXT,
  ten_thu_tuc: TEXT,
  kenh_nop: TEXT,
  ho_ten_nguoi_nop: TEXT,
  so_giay_to: TEXT,
  trich_yeu: TEXT,
  ma_don_vi: CODE,
  ngay_nhan: vnTime('legacy'),
  ngay_hen_tra: vnTime('legacy'),
  ngay_tra: vnTime('legacy'),
  trang_thai: STATUS,
  le_phi: { kind: 'records', fields: { ten: TEXT, so_tien: CODE } },
  tien_do: {
    kind: 'records',
    fields: {
      can_bo: TEXT,
      chuc_vu: TEXT,
      phong_ban: TEXT,
      thoi_gian: vnTime('legacy'),
      noi_dung: TEXT,
      trang_thai: STATUS,
    },
  },
};

/**
 * The shop's bookkeeping, not the dossier's state: when it stored the record, and the version
 * (`phien_ban`, the stream version the hub sent, which only orders writes).
 */
const IGNORED = ['ngay_cap_nhat', 'phien_ban'];

/**
 * The record the shop should hold for a dossier: the one-stop-shop connector's own mapping
 * (`toOneStopShopDossier` with `ma_ho_so`, and `toOneStopShopProgress` as `tien_do`).
 * @throws ConnectorError (`mapping`) when the log lacks what the connector needs to send it.
 */
function expectedOneStopShopRecord(dossier: ExpectedDossier): Record<string, unknown> {
  const state = { dossier: dossier.dossier, view: dossier.view, events: dossier.events };
  const facts = oneStopShopFacts(dossier.events);
  return {
    ma_ho_so: dossier.dossier,
    ...toOneStopShopDossier(state, facts),
    tien_do: toOneStopShopProgress(state, facts),
  };
}

/** The shop's records as {@link dossierRecordChecks} reads them. */
const ONE_STOP_SHOP_RECORDS: DossierRecords = {
  code: 'ma_ho_so',
  unit: 'ma_don_vi',
  status: 'trang_thai',
  rules: ONE_STOP_SHOP_FIELD_RULES,
  ignore: IGNORED,
  statusNames: OSS_STATUS,
  expectedRecord: expectedOneStopShopRecord,
  erasedFields: (dossier) => oneStopShopErasedFields(dossier.view, oneStopShopFacts(dossier.events)),
};

/**
 * Reconciles a province's one-stop-shop through `DanhSachHoSo`, page by page, like the portal's
 * reconciler: field by field after normalisation (status names are their national codes), missing
 * records, earlier statuses and records the log does not imply; a shop still holding an erased
 * person's name or ID is `not-erased-in-target`.
 */
export class OneStopShopReconciler extends DossierRecordsReconciler<OneStopShopReconcilerOptions> {
  readonly target = ONE_STOP_SHOP_TARGET;
  protected readonly records = ONE_STOP_SHOP_RECORDS;

  constructor(options: OneStopShopReconcilerOptions) {
    super(options, ONE_STOP_SHOP_MAX_PAGE_SIZE, ONE_STOP_SHOP_MAX_PAGE_SIZE);
  }

  /**
   * A dossier only the shop holds, read by its code (`GET /api/v1/ho-so/{ma_ho_so}`) and told as the
   * shop's events ({@link oneStopShopRecordEvents}: the submission, then its status changes, from
   * `/communes/<ma_don_vi>/one-stop-shop`, ids derived from `ma_ho_so`); undefined when the shop no
   * longer holds it.
   * @throws DomainError `invalid` when the record lacks what the events require (the field named).
   */
  async capture(dossier: string, signal?: AbortSignal): Promise<CloudEvent[] | undefined> {
    const { client, units } = this.options;
    if (client.getDossier === undefined || units === undefined)
      throw new DomainError(
        'conflict',
        'this one-stop-shop reconciler cannot look dossiers up: acknowledge instead',
      );
    const record = await client.getDossier(dossier, signal);
    if (record === undefined) return undefined;
    const told = oneStopShopRecordEvents(record, units);
    if ('refusal' in told)
      throw new DomainError(
        'invalid',
        `the one-stop-shop's record of ${dossier} cannot be told as events: ${told.refusal}`,
      );
    return told.events;
  }

  protected async *listPages(signal: AbortSignal | undefined) {
    for (let page = 1; ; page++) {
      const listed = await this.options.client.listDossiers(page, this.pageSize, signal);
      yield { records: listed.dossiers as unknown as Record<string, unknown>[] };
      if (listed.dossiers.length === 0 || page >= listed.pages) return;
    }
  }
}
