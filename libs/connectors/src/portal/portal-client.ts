import { GenerationCache } from '#lgsp/event-store';
import type { ConnectorError } from '../core/errors.js';
import {
  HttpExchange,
  httpStatusError,
  notItsAnswer,
  parseJsonAnswer,
  redactIdNumbers,
  refusedError,
  unavailableError,
} from '../core/http-exchange.js';
import {
  PORTAL_EXISTS_CODES,
  PORTAL_OK,
  PORTAL_SESSION_INVALID,
  type PortalAgencyRecord,
  type PortalAnswer,
  type PortalProcedureRecord,
  type PortalDossierRecord,
  type PortalProgressRecord,
  type PortalSyncItem,
} from './external/portal-wire.js';
import type { PortalOnlinePage, PortalOnlineSubmission } from './external/portal-online-wire.js';
import { PORTAL_TARGET, type PortalProcedure } from './portal-mapping.js';

/** The portal takes at most this many progress records per `CapNhatTienDoHoSoMC` call. */
export const PORTAL_PROGRESS_CHUNK = 10;

export interface PortalClientOptions {
  /** Base URL of the portal, e.g. `http://127.0.0.1:4010`. */
  baseUrl: string;
  username: string;
  password: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** Target name in the errors. @defaultValue `portal` */
  target?: string;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
  /**
   * Dossier codes remembered as existing in the portal, so that an update is sent as one (those not
   * used for longest are forgotten first; a forgotten one costs one "đã tồn tại" round trip).
   * @defaultValue 100000
   */
  knownDossiers?: number;
  /** Path of the login, e.g. `/mapi/login` behind the adapter (XRD). @defaultValue `/api/login` */
  loginPath?: string;
  /** Path of the service calls, e.g. `/mapi/g` behind the adapter (XRD). @defaultValue `/api/adapter` */
  servicePath?: string;
  /** Sent as `madonvi` in every service call's body when set: the calling agency's ID. */
  agencyId?: string;
  /** Sent as the `dstcode` header of every call when set: the adapter's destination code. */
  dstCode?: string;
  /**
   * The key `TraCuuHoSo` is asked by: the lowercase `mahoso` of both public clients (answered with a
   * `result` array), or `MaHoSo` (answered with one object). Either answer is read. @defaultValue `mahoso`
   */
  lookupKey?: 'mahoso' | 'MaHoSo';
}

/** The largest page `XuatDanhSachHoSo` serves. */
export const PORTAL_MAX_EXPORT_PAGE = 5000;

/** One page of the portal's bulk export (`XuatDanhSachHoSo`), in the portal's creation order. */
export interface PortalExportPage {
  /** `TongSo`: dossiers the portal holds. */
  total: number;
  /** `ViTriTiepTheo`: the offset of the next page; null at the end. */
  next: number | null;
  /** As the portal holds them, each with its progress records (`TienDo`). */
  dossiers: (PortalDossierRecord & { TienDo?: PortalProgressRecord[] })[];
}

export interface SyncResult {
  /** True when this call created the dossier in the portal, false when it updated it. */
  created: boolean;
  /** Calls made to `DongBoHoSoMC` (2 when the first guess of create or update was wrong). */
  calls: number;
}

/**
 * A client of the national portal's adapter API: `POST /api/login` for a session, then
 * `POST /api/adapter` with `{service, session, ...}` (both paths configurable, e.g. `/mapi/login` and
 * `/mapi/g` behind the adapter; `madonvi` in the body and a `dstcode` header when configured).
 * `error_code` is read as a number or a numeric string. Every failure is a {@link ConnectorError}:
 * no answer, a timeout, 408/429/5xx are `retriable` (with the target's Retry-After); a 4xx and a
 * refusal (`error_code` -1) are `data`. An invalid or expired session (`error_code` 401) logs in again
 * once and repeats the call.
 */
export class PortalClient {
  readonly target: string;
  private readonly http: HttpExchange;
  /** See {@link PortalClientOptions.knownDossiers}: a {@link GenerationCache}, whose eviction stays cheap when full. */
  private readonly known: GenerationCache<true>;
  private session: Promise<string> | undefined;

  constructor(private readonly options: PortalClientOptions) {
    this.target = options.target ?? PORTAL_TARGET;
    this.http = new HttpExchange(this.target, options);
    this.known = new GenerationCache<true>(options.knownDossiers ?? 100_000);
  }

  /** Logs in and keeps the session; concurrent callers share one login. */
  async login(signal?: AbortSignal): Promise<string> {
    const pending = this.post(
      this.options.loginPath ?? '/api/login',
      { username: this.options.username, password: this.options.password },
      signal,
    ).then((answer) => {
      if (answer.error_code !== PORTAL_OK || typeof answer.session !== 'string') {
        // Bad credentials are the hub's configuration, not the dossier's fault: retriable, so the
        // breaker opens and deliveries wait instead of parking every dossier.
        throw unavailableError(
          this.target,
          `${this.target} refused the login: ${answer.message ?? answer.error_code}`,
        );
      }
      return answer.session;
    });
    this.session = pending;
    pending.catch(() => {
      if (this.session === pending) this.session = undefined;
    });
    return pending;
  }

  /**
   * Creates or updates one dossier with its whole state, so sending the same state twice is harmless.
   * It is sent as an update when the code is known to exist, else as a creation; the portal's
   * "đã tồn tại" (already exists) turns a creation into an update and "không tồn tại" (does not
   * exist, e.g. a write the portal lost) an update into a creation. A second dossier is never made.
   * "Already exists" is read under `error_code` -1 with its message, and under 0, 3 and -3 (seen in
   * the field); `isUpdating` is sent as "True"/"False", as the real clients do.
   */
  async syncDossier(record: PortalDossierRecord, signal?: AbortSignal): Promise<SyncResult> {
    let isUpdating = this.known.get(record.MaHoSo) === true;
    for (let calls = 1; ; calls++) {
      const flag = isUpdating ? 'True' : 'False';
      const answer = await this.call(
        'DongBoHoSoMC',
        { isUpdating: flag, data: [{ ...record, isUpdating: flag }] },
        signal,
      );
      const item = syncItem(answer, record.MaHoSo);
      const itemCode = item === undefined ? undefined : portalCode(item.error_code);
      // The portal tells these two apart by its message (read in NFC), or by codes 3 / -3.
      const message = nfc(item?.message ?? answer.message ?? '');
      const exists =
        /đã tồn tại/i.test(message) || PORTAL_EXISTS_CODES.includes(itemCode ?? answer.error_code);
      const ok = answer.error_code === PORTAL_OK && (itemCode === undefined || itemCode === PORTAL_OK);
      if (ok && !exists) {
        this.remember(record.MaHoSo);
        return { created: !isUpdating, calls };
      }
      if (calls < 3 && !isUpdating && exists) {
        isUpdating = true;
        continue;
      }
      if (calls < 3 && isUpdating && /không tồn tại/i.test(message)) {
        this.known.delete(record.MaHoSo);
        isUpdating = false;
        continue;
      }
      throw this.refused('DongBoHoSoMC', message || String(answer.error_code));
    }
  }

  /** Appends progress records, in calls of at most {@link PORTAL_PROGRESS_CHUNK}, in order. */
  async pushProgress(records: readonly PortalProgressRecord[], signal?: AbortSignal): Promise<number> {
    let calls = 0;
    for (let i = 0; i < records.length; i += PORTAL_PROGRESS_CHUNK) {
      const answer = await this.call(
        'CapNhatTienDoHoSoMC',
        { data: records.slice(i, i + PORTAL_PROGRESS_CHUNK) },
        signal,
      );
      calls++;
      if (answer.error_code !== PORTAL_OK) {
        throw this.refused('CapNhatTienDoHoSoMC', nfc(answer.message ?? String(answer.error_code)));
      }
    }
    return calls;
  }

  /** The dossier as the portal holds it (with its `TienDo` progress), or undefined when unknown. */
  async lookup(
    code: string,
    signal?: AbortSignal,
  ): Promise<(PortalDossierRecord & { TienDo?: PortalProgressRecord[] }) | undefined> {
    const key = this.options.lookupKey ?? 'mahoso';
    const answer = await this.call('TraCuuHoSo', { [key]: code }, signal);
    if (answer.error_code === PORTAL_OK) {
      // `mahoso` is answered with an array (empty when unknown), `MaHoSo` with the object.
      const found = Array.isArray(answer.result) ? answer.result[0] : answer.result;
      if (found === undefined || found === null) return undefined;
      if (typeof found !== 'object') {
        throw unavailableError(this.target, `${this.target} answered TraCuuHoSo with no dossier record`);
      }
      return found as PortalDossierRecord & { TienDo?: PortalProgressRecord[] };
    }
    if (/không tìm thấy/i.test(nfc(answer.message ?? ''))) return undefined;
    throw this.refused('TraCuuHoSo', nfc(answer.message ?? String(answer.error_code)));
  }

  /**
   * A procedure of the portal's catalogue (`LayThuTuc` by `MaTTHC`), or undefined when the catalogue
   * has none of that code. The answer's `result` may be the object or an array of it.
   */
  async procedure(code: string, signal?: AbortSignal): Promise<PortalProcedure | undefined> {
    const answer = await this.call('LayThuTuc', { MaTTHC: code }, signal);
    if (answer.error_code !== PORTAL_OK) {
      if (/không tìm thấy|không tồn tại/i.test(nfc(answer.message ?? ''))) return undefined;
      throw this.refused('LayThuTuc', nfc(answer.message ?? String(answer.error_code)));
    }
    const found: unknown = Array.isArray(answer.result) ? answer.result[0] : answer.result;
    if (found === undefined || found === null) return undefined;
    const procedure = toPortalProcedure(found);
    if (procedure === undefined) {
      throw unavailableError(this.target, `${this.target} answered LayThuTuc with no TENTTHC`);
    }
    return procedure;
  }

  /** The procedures of the catalogue (`LayDanhSachTTHC`), of one field when `sectorCode` is given. */
  async procedures(sectorCode?: string, signal?: AbortSignal): Promise<PortalProcedure[]> {
    const service = 'LayDanhSachTTHC';
    const answer = await this.call(
      service,
      sectorCode === undefined ? {} : { MaLinhVuc: sectorCode },
      signal,
    );
    if (answer.error_code !== PORTAL_OK) {
      throw this.refused(service, nfc(answer.message ?? String(answer.error_code)));
    }
    if (!Array.isArray(answer.result)) {
      throw unavailableError(this.target, `${this.target} answered ${service} with no result list`);
    }
    return answer.result.flatMap((r: unknown) => {
      const p = toPortalProcedure(r);
      return p === undefined ? [] : [p];
    });
  }

  /** The agencies of the portal's directory (`LayDanhMucCoQuan`). */
  async agencies(signal?: AbortSignal): Promise<{ code: string; name: string }[]> {
    const service = 'LayDanhMucCoQuan';
    const answer = await this.call(service, {}, signal);
    if (answer.error_code !== PORTAL_OK) {
      throw this.refused(service, nfc(answer.message ?? String(answer.error_code)));
    }
    if (!Array.isArray(answer.result)) {
      throw unavailableError(this.target, `${this.target} answered ${service} with no result list`);
    }
    return (answer.result as Partial<PortalAgencyRecord>[]).flatMap((a) =>
      typeof a?.MACOQUAN === 'string' && typeof a.TENCOQUAN === 'string'
        ? [{ code: a.MACOQUAN, name: nfc(a.TENCOQUAN) }]
        : [],
    );
  }

  /**
   * The online submissions after position `cursor` of the portal's feed (`LayDanhSachHoSoTrucTuyen`),
   * at most `limit` (1–1000), in feed order. A page the portal garbles (no `result` list, an item
   * without a position) is `retriable`: nothing in it can be captured, and skipping it would lose it.
   */
  async listOnlineSubmissions(
    cursor: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<PortalOnlinePage> {
    const service = 'LayDanhSachHoSoTrucTuyen';
    const answer = await this.call(service, { ViTri: cursor, SoLuong: limit }, signal);
    if (answer.error_code !== PORTAL_OK) {
      throw this.refused(service, nfc(answer.message ?? String(answer.error_code)));
    }
    const garbled = (what: string) =>
      unavailableError(this.target, `${this.target} answered ${service} with ${what}`);
    if (!Array.isArray(answer.result)) throw garbled('no result list');
    const submissions = (answer.result as unknown[]).map((item, i) => {
      const position =
        typeof item === 'object' && item !== null
          ? feedPosition((item as { ViTri?: unknown }).ViTri)
          : undefined;
      if (position === undefined) throw garbled(`an item without a position (result[${i}])`);
      return { ...(item as Record<string, unknown>), ViTri: position } as PortalOnlineSubmission;
    });
    const last =
      feedPosition((answer as { ViTriCuoi?: unknown }).ViTriCuoi) ?? submissions.at(-1)?.ViTri ?? cursor;
    return { submissions, last };
  }

  /**
   * One page of every dossier the portal holds (`XuatDanhSachHoSo`), from `offset` (0-based), for
   * reconciliation. A page without a `result` list is `retriable`, like a garbled feed page.
   * @param size 1 to {@link PORTAL_MAX_EXPORT_PAGE}
   */
  async exportDossiers(offset: number, size: number, signal?: AbortSignal): Promise<PortalExportPage> {
    if (!Number.isInteger(offset) || offset < 0)
      throw new RangeError(`offset must be an integer ≥ 0, got ${offset}`);
    if (!Number.isInteger(size) || size < 1 || size > PORTAL_MAX_EXPORT_PAGE) {
      throw new RangeError(`size must be an integer 1–${PORTAL_MAX_EXPORT_PAGE}, got ${size}`);
    }
    const service = 'XuatDanhSachHoSo';
    const answer = await this.call(service, { ViTri: offset, SoLuong: size }, signal);
    if (answer.error_code !== PORTAL_OK) {
      throw this.refused(service, nfc(answer.message ?? String(answer.error_code)));
    }
    if (!Array.isArray(answer.result)) {
      throw unavailableError(this.target, `${this.target} answered ${service} with no result list`);
    }
    const dossiers = answer.result as PortalExportPage['dossiers'];
    const paged = answer as { TongSo?: unknown; ViTriTiepTheo?: unknown };
    const next = feedPosition(paged.ViTriTiepTheo);
    return {
      total: feedPosition(paged.TongSo) ?? offset + dossiers.length,
      next: next === undefined || dossiers.length === 0 ? null : next,
      dossiers,
    };
  }

  /** One adapter call with the session; an invalid or expired session logs in again once. */
  private async call(
    service: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<PortalAnswer> {
    for (let attempt = 1; ; attempt++) {
      const pending = this.session ?? this.login(signal);
      const session = await pending;
      const agency = this.options.agencyId === undefined ? {} : { madonvi: this.options.agencyId };
      const answer = await this.post(
        this.options.servicePath ?? '/api/adapter',
        { ...body, ...agency, service, session },
        signal,
      );
      if (answer.error_code !== PORTAL_SESSION_INVALID) return answer;
      if (this.session === pending) this.session = undefined;
      if (attempt >= 2) {
        throw unavailableError(this.target, `${this.target} refused a fresh session for ${service}`);
      }
    }
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<PortalAnswer> {
    const headers: Record<string, string> =
      this.options.dstCode === undefined ? {} : { dstcode: this.options.dstCode };
    const { response, text } = await this.http.exchange('POST', path, { body, headers, signal });
    const parsed = parseJsonAnswer<PortalAnswer>(text, (v) => portalCode(v.error_code) !== undefined);
    // `error_code` as the portal wrote it, a number or a numeric string, read as a number.
    const answer =
      parsed === undefined ? undefined : { ...parsed, error_code: portalCode(parsed.error_code) as number };
    if (!response.ok) {
      const message = answer?.message === undefined ? `${path}` : `${path}: ${redact(nfc(answer.message))}`;
      throw httpStatusError(this.target, response, message);
    }
    if (answer === undefined) throw notItsAnswer(this.target, path, response.status);
    return answer;
  }

  private refused(service: string, message: string): ConnectorError {
    return refusedError(this.target, `${this.target} refused ${service}: ${redact(message)}`);
  }

  private remember(code: string): void {
    this.known.set(code, true);
  }
}

/** A feed position: an integer ≥ 0, which the portal may write as a numeric string. */
function feedPosition(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** An `error_code`: a number, or a string of one ("0", "-1", "401"). */
export function portalCode(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** A `LayThuTuc` / `LayDanhSachTTHC` record as a {@link PortalProcedure}; undefined without code and name. */
export function toPortalProcedure(v: unknown): PortalProcedure | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<PortalProcedureRecord>;
  if (typeof r.MATTHC !== 'string' || typeof r.TENTTHC !== 'string' || r.TENTTHC === '') return undefined;
  const sectors = (Array.isArray(r.LINHVUCTHUCHIEN) ? r.LINHVUCTHUCHIEN : []).flatMap((s) =>
    typeof s?.MALINHVUC === 'string' && typeof s.TENLINHVUC === 'string' && s.MALINHVUC !== ''
      ? [{ code: s.MALINHVUC, name: nfc(s.TENLINHVUC) }]
      : [],
  );
  const timeLimit = timeLimitOf(r.CACHTHUCTHUCHIEN);
  return { code: r.MATTHC, name: nfc(r.TENTTHC), sectors, ...(timeLimit ? { timeLimit } : {}) };
}

/** The shortest time limit in days of the procedure's ways (`CACHTHUCTHUCHIEN[].THOIGIAN[]`). */
function timeLimitOf(ways: PortalProcedureRecord['CACHTHUCTHUCHIEN']): PortalProcedure['timeLimit'] {
  let best: PortalProcedure['timeLimit'];
  for (const way of Array.isArray(ways) ? ways : []) {
    for (const t of Array.isArray(way?.THOIGIAN) ? way.THOIGIAN : []) {
      const days = Number(t?.THOIGIANGIAIQUYET);
      const unit = nfc(String(t?.DONVITINH ?? '')).toLowerCase();
      if (!Number.isFinite(days) || days <= 0 || !unit.startsWith('ngày')) continue;
      const limit = { days: Math.ceil(days), working: unit.includes('làm việc') };
      if (best === undefined || limit.days < best.days) best = limit;
    }
  }
  return best;
}

function syncItem(answer: PortalAnswer, code: string): PortalSyncItem | undefined {
  if (!Array.isArray(answer.result)) return undefined;
  return (answer.result as PortalSyncItem[]).find((r) => r.MaHoSo === code);
}

const nfc = (s: string): string => s.normalize('NFC');

/** A message of the portal without the ID numbers, phone numbers and e-mail addresses it may echo. */
const redact = (message: string): string =>
  redactIdNumbers(message).replace(/[^\s@"'<>()]+@[^\s@"'<>()]+\.[^\s@"'<>()]+/g, '[redacted]');
