import {
  CODE,
  TEXT,
  communesOf,
  differences,
  judgesExtra,
  ListingReconciler,
  type MismatchBatcher,
  type ExpectedDossier,
  type FieldRules,
  type ReconciliationScope,
  type SystemReading,
} from '#lgsp/reconciliation';
import { DomainError, type AdminUnits, type CloudEvent } from '#lgsp/contracts';
import { isErased } from '../core/erasure.js';
import { ConnectorError } from '../core/errors.js';
import { vnTime } from '../core/reconcile-fields.js';
import type { CivilRegistryClient } from './civil-registry-client.js';
import {
  CIVIL_REGISTRY_DOSSIER_STATUS,
  CIVIL_REGISTRY_SOURCE,
  CIVIL_REGISTRY_TARGET,
  BIRTH_MODULE,
  civilRegistryResultEvents,
  toCivilRegistryRequest,
  type CivilRegistryDraft,
} from './civil-registry-mapping.js';
import { CIVIL_REGISTRY_STATUS, type CivilRegistryResult } from './external/civil-registry-wire.js';
import { vnTextToRfc3339 } from '../core/vn-time.js';

export interface CivilRegistryReconcilerOptions {
  client: Pick<CivilRegistryClient, 'list'>;
  /** Dossiers per `DanhSachHoSo` page (the registry serves at most 5000). @defaultValue 5000 */
  pageSize?: number;
  /** Mismatches per yielded batch. @defaultValue 500 */
  batchSize?: number;
  /** The administrative units, to place a captured extra (its province from its commune). */
  units?: Pick<AdminUnits, 'provinceOfCommune'>;
}

/** The registry's fields and how each is compared; `data` is compared field by field (`data.nksHoTen`). */
export const CIVIL_REGISTRY_FIELD_RULES: FieldRules = {
  maHoSoMCDT: TEXT,
  module: TEXT,
  maDonVi: CODE,
  ngayTiepNhan: vnTime('legacy'),
  trangThai: CODE,
  soDangKy: TEXT,
  'data.nksHoTen': TEXT,
  'data.nksNgaySinh': vnTime('dotted'),
  'data.nksGioiTinh': CODE,
  'data.nksNoiSinh': TEXT,
  'data.meHoTen': TEXT,
  'data.meSoDDCN': TEXT,
  'data.chaHoTen': TEXT,
  'data.chaSoDDCN': TEXT,
};

/** What the log implies the registry holds for a dossier. */
export interface ExpectedRegistration {
  /** The request the civil-registry connector sent (its own mapping), but for DVCLT's `maHoSoLT`. */
  request: CivilRegistryDraft;
  /** The final result the log captured from the registry, if any. */
  outcome?: { trangThai: 4; soDangKy: string } | { trangThai: 6 };
}

/**
 * The registration the log implies for a dossier: one exists once the dossier, whose submission
 * carries a `civilRegistration`, went into processing (a status change to 4 not captured from the
 * registry), as the civil-registry connector sends it then; undefined otherwise.
 */
export function expectedRegistration(dossier: ExpectedDossier): ExpectedRegistration | undefined {
  const sent = dossier.events.some(
    (e) =>
      e.type === 'vn.gov.lgsp.dossier.status-changed.v1' &&
      e.source !== CIVIL_REGISTRY_SOURCE &&
      (e.data as { status?: unknown }).status === CIVIL_REGISTRY_DOSSIER_STATUS.processing,
  );
  if (!sent) return undefined;
  let request: CivilRegistryDraft | undefined;
  try {
    request = toCivilRegistryRequest(dossier);
  } catch {
    return undefined;
  }
  if (request === undefined) return undefined;
  const registered = dossier.view.civilStatus;
  if (registered !== undefined) {
    return { request, outcome: { trangThai: 4, soDangKy: registered.registrationNumber } };
  }
  const rejected = dossier.events.some(
    (e) =>
      e.source === CIVIL_REGISTRY_SOURCE &&
      e.type === 'vn.gov.lgsp.dossier.status-changed.v1' &&
      (e.data as { status?: unknown }).status === CIVIL_REGISTRY_DOSSIER_STATUS.rejected,
  );
  return rejected ? { request, outcome: { trangThai: 6 } } : { request };
}

/**
 * `data: {nksHoTen}` (an object, or the JSON string the request sends) as `data.nksHoTen`, so each
 * person field is its own field; `fileDinhKem` and `ketQuaXuLy` are left out.
 */
function flatten(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === 'fileDinhKem' || k === 'ketQuaXuLy') continue;
    if (k !== 'data') {
      out[k] = v;
      continue;
    }
    let data: unknown = v;
    if (typeof v === 'string') {
      try {
        data = JSON.parse(v);
      } catch {
        data = undefined;
      }
    }
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      for (const [dk, dv] of Object.entries(data)) out[`data.${dk}`] = dv;
    }
  }
  return out;
}

const FINAL: readonly number[] = [CIVIL_REGISTRY_STATUS.done, CIVIL_REGISTRY_STATUS.rejected];

/**
 * Reconciles the civil registry through `DanhSachHoSo`, keyed by `maHoSoMCDT`. A registration the log implies and the
 * registry lacks is `missing-civil-record`. The request's fields are compared where the listing shows
 * them (it may leave out the details); a final result of the log (done with its certificate number,
 * or rejected) is compared with the registry's: a registry still short of it is `stale-status`. While
 * the log has no final result the registry's status is not judged, since it moves ahead of the log
 * between polls. Registrations the log does not imply are `unexpected-extra` (see `judgesExtra`; the
 * record's unit is `maDonVi` when listed).
 */
export class CivilRegistryReconciler extends ListingReconciler<
  Record<string, unknown>,
  CivilRegistryReconcilerOptions
> {
  readonly target = CIVIL_REGISTRY_TARGET;

  protected read(
    expected: ReadonlyMap<string, ExpectedDossier>,
    scope: ReconciliationScope,
  ): SystemReading<Record<string, unknown>> {
    const byLink = new Map<string, { dossier: ExpectedDossier; registration: ExpectedRegistration }>();
    for (const dossier of expected.values()) {
      const registration = expectedRegistration(dossier);
      if (registration !== undefined) byLink.set(registration.request.maHoSoMCDT, { dossier, registration });
    }
    const communes = communesOf(expected);
    const seen = new Set<string>();
    const { client } = this.options;
    const pageSize = this.pageSize;
    return {
      async *pages(signal) {
        for (let from = 0; ;) {
          const page = await client.list(from, pageSize, signal);
          from += page.items.length;
          yield { records: page.items as unknown as Record<string, unknown>[] };
          if (page.items.length === 0 || from >= page.total) return;
        }
      },
      check: (item, out) => {
        const link = String(item.maHoSoMCDT);
        const entry = byLink.get(link);
        const code = link;
        if (entry === undefined) {
          const unit = item.maDonVi === undefined ? undefined : String(item.maDonVi);
          if (!expected.has(code) && judgesExtra(scope, code, unit, communes)) {
            out.add(
              code,
              '*',
              null,
              { maHoSoMCDT: link, trangThai: item.trangThai ?? null },
              'unexpected-extra',
            );
          }
          return false;
        }
        seen.add(link);
        this.compare(entry.dossier.dossier, entry.registration, flatten(item), out);
        return true;
      },
      remaining: (out) => {
        let judged = 0;
        for (const [link, { dossier }] of byLink) {
          if (seen.has(link)) continue;
          out.add(dossier.dossier, '*', { maHoSoMCDT: dossier.dossier }, null, 'missing-civil-record');
          judged++;
        }
        return judged;
      },
    };
  }

  /**
   * A registration only the registry holds, as the registry's own result capture tells it: a done
   * birth registration (`module` LTKS, `trangThai` 4) is `civil-status.registered` and the dossier's
   * `status-changed` to 9, from `/national/civil-registry`, with the ids of the result poller
   * ({@link civilRegistryEventId}), so a later poll stores nothing twice. The registry is read through
   * `DanhSachHoSo`, page by page until the record is found: `LayKetQua`, its look-up by code, needs the
   * module and province and returns no person, which the event requires (`data.nksHoTen`,
   * `data.nksNgaySinh`, `data.nksGioiTinh`). Undefined when the registry no longer holds it.
   * @throws DomainError `conflict` when the record tells nothing the catalogue has (not done yet,
   *   rejected, another module); `invalid` when it lacks what the events require (the field named).
   */
  async capture(dossier: string, signal?: AbortSignal): Promise<CloudEvent[] | undefined> {
    const { units } = this.options;
    if (units === undefined)
      throw new DomainError(
        'conflict',
        'this civil-registry reconciler cannot place records: acknowledge instead',
      );
    const record = await this.find(dossier, signal);
    if (record === undefined) return undefined;
    const refuse = (why: string) =>
      new DomainError(
        'invalid',
        `the civil registry's record of ${dossier} cannot be told as events: ${why}`,
      );
    if (record.module !== BIRTH_MODULE)
      throw new DomainError(
        'conflict',
        `the civil registry's record of ${dossier} is module ${String(record.module)}: only birth registrations (${BIRTH_MODULE}) are told as events; acknowledge instead`,
      );
    if (record.trangThai !== CIVIL_REGISTRY_STATUS.done)
      throw new DomainError(
        'conflict',
        `the civil registry's record of ${dossier} is at status ${String(record.trangThai)}, not 4 (done): no registration happened there yet; acknowledge it, or capture it from a later run`,
      );
    const communeCode = typeof record.maDonVi === 'string' ? record.maDonVi : undefined;
    const provinceCode =
      communeCode !== undefined && /^\d{5}$/.test(communeCode)
        ? units.provinceOfCommune(communeCode)
        : undefined;
    if (communeCode === undefined || provinceCode === undefined)
      throw refuse('maDonVi is not a commune of the administrative-unit list');
    const data = record.data ?? {};
    const fullName = typeof data.nksHoTen === 'string' ? data.nksHoTen.normalize('NFC').trim() : '';
    if (fullName === '') throw refuse('data.nksHoTen is missing');
    const born =
      typeof data.nksNgaySinh === 'string' ? vnTextToRfc3339(data.nksNgaySinh, 'dotted') : undefined;
    if (born === undefined) throw refuse('data.nksNgaySinh is missing or not a dd.MM.yyyy date');
    const sex = data.nksGioiTinh === 1 ? 'male' : data.nksGioiTinh === 2 ? 'female' : undefined;
    if (sex === undefined) throw refuse('data.nksGioiTinh is not 1 or 2');
    try {
      return civilRegistryResultEvents(record, {
        dossierCode: dossier,
        provinceCode,
        communeCode,
        registrationType: 'birth',
        person: { fullName, dateOfBirth: born.slice(0, 10), sex },
        supplementRequested: false,
      }).events;
    } catch (err) {
      if (err instanceof ConnectorError) throw refuse(err.message);
      throw err;
    }
  }

  /** The registry's record of `dossier` from `DanhSachHoSo`, with its person fields. */
  private async find(dossier: string, signal?: AbortSignal): Promise<CivilRegistryResult | undefined> {
    for (let from = 0; ;) {
      const page = await this.options.client.list(from, this.pageSize, signal);
      const found = page.items.find((r) => r.maHoSoMCDT === dossier);
      if (found !== undefined) return found;
      from += page.items.length;
      if (page.items.length === 0 || from >= page.total) return undefined;
    }
  }

  private compare(
    code: string,
    registration: ExpectedRegistration,
    actual: Record<string, unknown>,
    out: MismatchBatcher,
  ): void {
    const request = flatten(registration.request as unknown as Record<string, unknown>);
    const always = ['maHoSoMCDT', 'module'];
    const expectedRecord: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(request)) {
      if (always.includes(k) || k in actual) expectedRecord[k] = v;
    }
    const compared = Object.keys(expectedRecord);
    if (registration.outcome !== undefined) {
      Object.assign(expectedRecord, registration.outcome);
      compared.push(...Object.keys(registration.outcome));
    }
    // The registry keeps its record by law after the hub erased the person: an erased field is not judged.
    for (const [k, v] of Object.entries(expectedRecord)) {
      if (isErased(v)) {
        delete expectedRecord[k];
        compared.splice(compared.indexOf(k), 1);
      }
    }
    const only = Object.fromEntries(compared.map((k) => [k, actual[k]]));
    for (const d of differences(expectedRecord, only, CIVIL_REGISTRY_FIELD_RULES)) {
      const stale = d.field === 'trangThai' && d.actual !== null && !FINAL.includes(Number(d.actual));
      out.add(code, d.field, d.expected, d.actual, stale ? 'stale-status' : 'wrong-field');
    }
  }
}
