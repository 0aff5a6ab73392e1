import {
  HttpExchange,
  httpStatusError,
  notItsAnswer,
  parseJsonAnswer,
  redactIdNumbers,
  unavailableError,
} from '../core/http-exchange.js';
import type {
  OneStopShopAnswer,
  OneStopShopDossierBody,
  OneStopShopProgressEntry,
  OneStopShopStoredDossier,
} from './external/one-stop-shop-wire.js';
import { ONE_STOP_SHOP_TARGET } from './one-stop-shop-mapping.js';

/** The shop takes 1 to 50 progress entries per `ThemTienDo` call. */
export const ONE_STOP_SHOP_PROGRESS_CHUNK = 50;
/** The largest page `DanhSachHoSo` serves. */
export const ONE_STOP_SHOP_MAX_PAGE_SIZE = 2000;

export interface OneStopShopClientOptions {
  /** Base URL of the shop, e.g. `http://127.0.0.1:4102`. */
  baseUrl: string;
  /** Sent as `X-API-Key` when set. @defaultValue none */
  apiKey?: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** Target name in the errors. @defaultValue `one-stop-shop` */
  target?: string;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
}

/**
 * What a `putDossier` did: `created` (201), `replaced` (200), or `newer-held` (409: the shop already
 * holds a later `phien_ban`, so this older state is not needed).
 */
export type PutDossierOutcome = 'created' | 'replaced' | 'newer-held';

/** One page of `DanhSachHoSo`, pages numbered from 1. */
export interface OneStopShopPage {
  page: number;
  size: number;
  total: number;
  pages: number;
  dossiers: OneStopShopStoredDossier[];
}

/**
 * A client of a province's one-stop-shop REST API (`/api/v1/ho-so`). Every failure is a
 * {@link ConnectorError}: no answer, a timeout, 408/429/5xx and a refused API key (401/403) are
 * `retriable` (with the shop's Retry-After); other 4xx are `data`. Error messages carry the shop's
 * message with quoted values and ID-like digit runs masked, since the shop echoes refused values and
 * these messages reach logs and parking records.
 */
export class OneStopShopClient {
  readonly target: string;
  private readonly http: HttpExchange;

  constructor(private readonly options: OneStopShopClientOptions) {
    this.target = options.target ?? ONE_STOP_SHOP_TARGET;
    this.http = new HttpExchange(this.target, options);
  }

  /**
   * Upserts a dossier's whole state (`CapNhatHoSo`), so sending the same state twice is harmless.
   * A 409 means the shop holds a higher `phien_ban`, i.e. a newer state of this dossier already (this
   * one was overtaken, e.g. by a redelivery of an older batch): that is a success, `newer-held`.
   */
  async putDossier(
    code: string,
    body: OneStopShopDossierBody,
    signal?: AbortSignal,
  ): Promise<PutDossierOutcome> {
    const { status } = await this.call('PUT', dossierPath(code), body, signal, [409]);
    if (status === 409) return 'newer-held';
    return status === 201 ? 'created' : 'replaced';
  }

  /**
   * Appends progress entries (`ThemTienDo`) in calls of at most {@link ONE_STOP_SHOP_PROGRESS_CHUNK},
   * in order; the shop keeps an entry identical to a stored one once, so repeating is harmless.
   * Nothing is sent for no entries. A 404 (dossier unknown to the shop) is a `data` error.
   * @returns the number of calls made
   */
  async addProgress(
    code: string,
    entries: readonly OneStopShopProgressEntry[],
    signal?: AbortSignal,
  ): Promise<number> {
    let calls = 0;
    for (let i = 0; i < entries.length; i += ONE_STOP_SHOP_PROGRESS_CHUNK) {
      await this.call(
        'POST',
        `${dossierPath(code)}/tien-do`,
        { danh_sach: entries.slice(i, i + ONE_STOP_SHOP_PROGRESS_CHUNK) },
        signal,
      );
      calls++;
    }
    return calls;
  }

  /** The dossier as the shop holds it, with its `tien_do` (`TraCuuHoSo`), or undefined when unknown. */
  async getDossier(code: string, signal?: AbortSignal): Promise<OneStopShopStoredDossier | undefined> {
    const { status, answer } = await this.call('GET', dossierPath(code), undefined, signal, [404]);
    if (status === 404) return undefined;
    return answer.du_lieu as OneStopShopStoredDossier;
  }

  /**
   * One page of every dossier the shop holds, in creation order (`DanhSachHoSo`), for reconciliation.
   * @param page from 1
   * @param size 1 to {@link ONE_STOP_SHOP_MAX_PAGE_SIZE}; @defaultValue 500
   */
  async listDossiers(page = 1, size = 500, signal?: AbortSignal): Promise<OneStopShopPage> {
    if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be an integer ≥ 1, got ${page}`);
    if (!Number.isInteger(size) || size < 1 || size > ONE_STOP_SHOP_MAX_PAGE_SIZE) {
      throw new RangeError(`size must be an integer 1–${ONE_STOP_SHOP_MAX_PAGE_SIZE}, got ${size}`);
    }
    const { answer } = await this.call(
      'GET',
      `/api/v1/ho-so?trang=${page}&so_luong=${size}`,
      undefined,
      signal,
    );
    return {
      page: answer.trang ?? page,
      size: answer.so_luong ?? size,
      total: answer.tong_so ?? 0,
      pages: answer.tong_so_trang ?? 0,
      dossiers: Array.isArray(answer.du_lieu) ? (answer.du_lieu as OneStopShopStoredDossier[]) : [],
    };
  }

  /**
   * One HTTP call. A status in `accepted` is returned as is (with whatever body came); any other
   * non-2xx becomes a classified ConnectorError.
   */
  private async call(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    accepted: readonly number[] = [],
  ): Promise<{ status: number; answer: OneStopShopAnswer }> {
    const { apiKey } = this.options;
    const headers: Record<string, string> = apiKey === undefined ? {} : { 'x-api-key': apiKey };
    const { response, text } = await this.http.exchange(method, path, { body, headers, signal });
    const answer = parseJsonAnswer<OneStopShopAnswer>(text, (v) => 'ma_loi' in v);
    const route = `${method} ${path.split('?')[0]}`;
    if (accepted.includes(response.status))
      return { status: response.status, answer: answer ?? { ma_loi: -1 } };
    if (response.status === 401 || response.status === 403) {
      // A missing or wrong API key is the hub's configuration, not the dossier's fault: retriable, so
      // the breaker opens and deliveries wait instead of parking every dossier.
      throw unavailableError(
        this.target,
        `${this.target} refused the API key on ${route} (${response.status})`,
        response.status,
      );
    }
    if (!response.ok) {
      const message = answer?.thong_bao === undefined ? route : `${route}: ${redact(answer.thong_bao)}`;
      throw httpStatusError(this.target, response, message);
    }
    if (answer === undefined || answer.ma_loi !== 0) {
      // A 2xx that is not the shop's success answer: a proxy's page or a half-written body.
      throw notItsAnswer(this.target, route, response.status, 'its success answer');
    }
    return { status: response.status, answer };
  }
}

const dossierPath = (code: string): string => `/api/v1/ho-so/${encodeURIComponent(code)}`;

/**
 * The shop's message in NFC with what may be personal masked: it quotes refused values
 * (`body.so_giay_to: "0511…" is not …`) and a run of 9 to 12 digits may be a citizen ID.
 */
function redact(message: string): string {
  return redactIdNumbers(message.normalize('NFC').replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"'));
}
