import { CIVIL_REGISTRY_MODULES, DVCLT_STATUSES, formatVn } from '#lgsp/connectors';
import type { Clock } from '#lgsp/observability';
import { SimInputError } from '../faults.js';
import { code, date, DOSSIER_CODE, PROCEDURE_CODE, record, requiredText, text } from '../fields.js';
import { isRecord, json, Simulator, type SimRequest, type SimResponse } from '../http.js';

/**
 * The interlinked-services portal (dịch vụ công liên thông, DVCLT). It issues the interlinked code
 * `maHoSoLT` of a dossier (`POST /api/CapMaHoSoLT` with `{maHoSoMCDT, maDonVi, maTTHC, module}`;
 * asking again for the same dossier answers the same code), lets a province pull the dossier by it
 * (`POST /api/LayHoSo` with `{maHoSoLT}`), and receives status reports (`POST /api/CapNhatTrangThai`
 * with `{maHoSoLT, trangThai: 1|2|3|4|5|6|7, coQuanXuLy, thoiGian: yyyyMMddHHmmss, ghiChu?}`).
 * Answers are `{status: "1" | "0", statusDescription, errorCode, errorDescription, value?}`, bad
 * input HTTP 400 in the same shape. The status codes and `coQuanXuLy` 5 come from one public code
 * base; the operation names and paths have no public trace (see ../../README.md).
 */
export interface InterlinkedDossier {
  maHoSoLT: string;
  maHoSoMCDT: string;
  maDonVi: string;
  maTTHC: string;
  module: string;
  /** `yyyyMMddHHmmss`, when the code was issued. */
  ngayCap: string;
  /** The reports received, in order. */
  trangThai: { trangThai: number; coQuanXuLy: number; thoiGian: string; ghiChu?: string }[];
}

const OK = { status: '1', statusDescription: 'Thành công', errorCode: '', errorDescription: '' };
const refusal = (errorCode: string, errorDescription: string) => ({
  status: '0',
  statusDescription: 'Thất bại',
  errorCode,
  errorDescription,
});

export class InterlinkedServicesSimulator extends Simulator {
  private dossiers = new Map<string, InterlinkedDossier>();
  private byDossierCode = new Map<string, string>();
  private issued = 0;

  constructor(options: { clock?: Pick<Clock, 'now'> } = {}) {
    super('dvclt', options.clock);
  }

  state(): { dossiers: InterlinkedDossier[] } {
    return { dossiers: [...this.dossiers.values()] };
  }

  protected clear(): void {
    this.dossiers.clear();
    this.byDossierCode.clear();
    this.issued = 0;
  }

  protected errorBody(status: number, message: string): unknown {
    return refusal(String(status), message);
  }

  protected async handle(req: SimRequest): Promise<SimResponse> {
    if (req.method === 'POST' && req.path === '/api/CapMaHoSoLT') return this.issue(req.body);
    if (req.method === 'POST' && req.path === '/api/LayHoSo') return this.pull(req.body);
    if (req.method === 'POST' && req.path === '/api/CapNhatTrangThai') return this.report(req.body);
    return this.error(404, `Không có API ${req.method} ${req.path}`);
  }

  private async issue(raw: unknown): Promise<SimResponse> {
    const peek = isRecord(raw) && typeof raw.maHoSoMCDT === 'string' ? [raw.maHoSoMCDT] : [];
    const guarded = await this.guard('CapMaHoSoLT', peek);
    if ('reject' in guarded) return guarded.reject;
    const body = record(raw, 'body');
    const maHoSoMCDT = requiredText(body, 'maHoSoMCDT', 'body', {
      pattern: DOSSIER_CODE,
      hint: 'a dossier code',
    });
    const maDonVi = requiredText(body, 'maDonVi', 'body', {
      pattern: /^\d{5}$/,
      hint: 'a 5-digit unit code',
    });
    const maTTHC = requiredText(body, 'maTTHC', 'body', {
      pattern: PROCEDURE_CODE,
      hint: 'a procedure code',
    });
    const module = requiredText(body, 'module', 'body');
    if (!(CIVIL_REGISTRY_MODULES as readonly string[]).includes(module)) {
      throw new SimInputError(`body.module: expected one of ${CIVIL_REGISTRY_MODULES.join(', ')}`);
    }
    const known = this.byDossierCode.get(maHoSoMCDT);
    if (known !== undefined) return json(200, { ...OK, value: { maHoSoLT: known } });
    this.issued += 1;
    const now = this.now();
    const maHoSoLT = `LT${formatVn(now, 'portal').slice(2, 8)}${String(this.issued).padStart(6, '0')}`;
    const dossier: InterlinkedDossier = {
      maHoSoLT,
      maHoSoMCDT,
      maDonVi,
      maTTHC,
      module,
      ngayCap: formatVn(now, 'portal'),
      trangThai: [],
    };
    if (!guarded.decision.dropWrite) {
      this.dossiers.set(maHoSoLT, dossier);
      this.byDossierCode.set(maHoSoMCDT, maHoSoLT);
    }
    return json(200, { ...OK, value: { maHoSoLT } });
  }

  private async pull(raw: unknown): Promise<SimResponse> {
    const guarded = await this.guard('LayHoSo');
    if ('reject' in guarded) return guarded.reject;
    const maHoSoLT = requiredText(record(raw, 'body'), 'maHoSoLT', 'body', { max: 50 });
    const dossier = this.dossiers.get(maHoSoLT);
    if (dossier === undefined)
      return json(200, refusal('KHONG_TIM_THAY', `Không tìm thấy hồ sơ ${maHoSoLT}`));
    return json(200, { ...OK, value: dossier });
  }

  private async report(raw: unknown): Promise<SimResponse> {
    const guarded = await this.guard('CapNhatTrangThai');
    if ('reject' in guarded) return guarded.reject;
    const body = record(raw, 'body');
    const maHoSoLT = requiredText(body, 'maHoSoLT', 'body', { max: 50 });
    const trangThai = code(body, 'trangThai', 'body', DVCLT_STATUSES, true) as number;
    const coQuanXuLy = code(body, 'coQuanXuLy', 'body', [1, 2, 3, 4, 5, 6, 7, 8, 9], true) as number;
    const thoiGian = date(body, 'thoiGian', 'body', 'portal', true) as string;
    const ghiChu = text(body, 'ghiChu', 'body', { max: 2000 });
    const dossier = this.dossiers.get(maHoSoLT);
    if (dossier === undefined)
      return json(200, refusal('KHONG_TIM_THAY', `Không tìm thấy hồ sơ ${maHoSoLT}`));
    const last = dossier.trangThai.at(-1);
    // The same report again (a retry) changes nothing.
    if (!guarded.decision.dropWrite && (last?.trangThai !== trangThai || last.coQuanXuLy !== coQuanXuLy)) {
      dossier.trangThai.push({
        trangThai,
        coQuanXuLy,
        thoiGian,
        ...(ghiChu === undefined ? {} : { ghiChu }),
      });
    }
    return json(200, OK);
  }
}
