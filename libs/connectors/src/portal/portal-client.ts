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
  PORTAL_OK,
  PORTAL_SESSION_INVALID,
  type PortalAnswer,
  type PortalDossierRecord,
  type PortalProgressRecord,
  type PortalSyncItem,
} from './external/portal-wire.js';
import type { PortalOnlinePage, PortalOnlineSubmission } from './external/portal-online-wire.js';
import { PORTAL_TARGET } from './portal-mapping.js';

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
   * Dossier codes remembered as existing in the portal, so that an update is sent as one (the
   * oldest is forgotten first; a forgotten one costs one "đã tồn tại" round trip). @defaultValue 100000
   */
  knownDossiers?: number;
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
 * `POST /api/adapter` with `{service, session, ...}`. Every failure is a {@link ConnectorError}:
 * no answer, a timeout, 408/429/5xx are `retriable` (with the target's Retry-After); a 4xx and a
 * refusal (`error_code` -1) are `data`. An invalid or expired session (`error_code` 401) logs in again
 * once and repeats the call.
 */
export class PortalClient {
  readonly target: string;
  private readonly http: HttpExchange;
  private readonly knownLimit: number;
  private readonly known = new Set<string>();
  private session: Promise<string> | undefined;

  constructor(private readonly options: PortalClientOptions) {
    this.target = options.target ?? PORTAL_TARGET;
    this.http = new HttpExchange(this.target, options);
    this.knownLimit = options.knownDossiers ?? 100_000;
  }

  /** Logs in and keeps the session; concurrent callers share one login. */
  async login(signal?: AbortSignal): Promise<string> {
    const pending = this.post(
      '/api/login',
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
   */
  async syncDossier(record: PortalDossierRecord, signal?: AbortSignal): Promise<SyncResult> {
    let isUpdating = this.known.has(record.MaHoSo);
    for (let calls = 1; ; calls++) {
      const answer = await this.call(
        'DongBoHoSoMC',
        { isUpdating, data: [{ ...record, isUpdating }] },
        signal,
      );
      const item = syncItem(answer, record.MaHoSo);
      if (answer.error_code === PORTAL_OK && (item === undefined || item.error_code === PORTAL_OK)) {
        this.remember(record.MaHoSo);
        return { created: !isUpdating, calls };
      }
      // The portal tells these two apart only by its message (no code), read in NFC.
      const message = nfc(item?.message ?? answer.message ?? '');
      if (calls < 3 && !isUpdating && /đã tồn tại/i.test(message)) {
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
    const answer = await this.call('TraCuuHoSo', { MaHoSo: code }, signal);
    if (answer.error_code === PORTAL_OK) {
      return answer.result as PortalDossierRecord & { TienDo?: PortalProgressRecord[] };
    }
    if (/không tìm thấy/i.test(nfc(answer.message ?? ''))) return undefined;
    throw this.refused('TraCuuHoSo', nfc(answer.message ?? String(answer.error_code)));
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
      const answer = await this.post('/api/adapter', { ...body, service, session }, signal);
      if (answer.error_code !== PORTAL_SESSION_INVALID) return answer;
      if (this.session === pending) this.session = undefined;
      if (attempt >= 2) {
        throw unavailableError(this.target, `${this.target} refused a fresh session for ${service}`);
      }
    }
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<PortalAnswer> {
    const { response, text } = await this.http.exchange('POST', path, { body, signal });
    const answer = parseJsonAnswer<PortalAnswer>(text, (v) => typeof v.error_code === 'number');
    if (!response.ok) {
      const message =
        answer?.message === undefined ? `${path}` : `${path}: ${redactIdNumbers(nfc(answer.message))}`;
      throw httpStatusError(this.target, response, message);
    }
    if (answer === undefined) throw notItsAnswer(this.target, path, response.status);
    return answer;
  }

  private refused(service: string, message: string): ConnectorError {
    return refusedError(this.target, `${this.target} refused ${service}: ${redactIdNumbers(message)}`);
  }

  private remember(code: string): void {
    this.known.delete(code);
    this.known.add(code);
    if (this.known.size > this.knownLimit) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

/** A feed position: an integer ≥ 0, which the portal may write as a numeric string. */
function feedPosition(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function syncItem(answer: PortalAnswer, code: string): PortalSyncItem | undefined {
  if (!Array.isArray(answer.result)) return undefined;
  return (answer.result as PortalSyncItem[]).find((r) => r.MaHoSo === code);
}

const nfc = (s: string): string => s.normalize('NFC');
