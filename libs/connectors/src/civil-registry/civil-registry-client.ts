import type { ConnectorError } from '../core/errors.js';
import {
  HttpExchange,
  httpStatusError,
  notItsAnswer,
  parseJsonAnswer,
  redactIdNumbers,
  refusedError,
} from '../core/http-exchange.js';
import { CIVIL_REGISTRY_TARGET } from './civil-registry-mapping.js';
import {
  CIVIL_REGISTRY_OK,
  CIVIL_REGISTRY_REFUSED,
  type CivilRegistryAnswer,
  type CivilRegistryReceipt,
  type CivilRegistryRequest,
  type CivilRegistryResult,
} from './external/civil-registry-wire.js';

export interface CivilRegistryClientOptions {
  /** Base URL of the registry, e.g. `http://127.0.0.1:4103`. */
  baseUrl: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** Target name in the errors. @defaultValue `civil-registry` */
  target?: string;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
}

export interface CivilRegistryRegistration {
  /** False when the registry already held this `maLienThong` ("đã tồn tại"): nothing new was made. */
  created: boolean;
  maLienThong: string;
  /** The status the registry answered with, when it did. */
  trangThai?: number;
}

export interface CivilRegistryPage {
  /** Registrations in the registry in all. */
  total: number;
  items: CivilRegistryResult[];
}

/**
 * A client of the civil registry's REST API (camelCase JSON, `{code, message, data}`). Every failure
 * is a {@link ConnectorError}: no answer, a timeout, 408/429/5xx and a body that is not the registry's
 * JSON are `retriable` (with its Retry-After); a 400 and a business refusal (HTTP 200, `code` "1") are
 * `data`, except the two refusals that are answers: "đã tồn tại" (already registered) for
 * {@link register} and "không tìm thấy" (unknown) for {@link result}. Messages quoting values are
 * redacted of anything that looks like a citizen ID.
 */
export class CivilRegistryClient {
  readonly target: string;
  private readonly http: HttpExchange;

  constructor(options: CivilRegistryClientOptions) {
    this.target = options.target ?? CIVIL_REGISTRY_TARGET;
    this.http = new HttpExchange(this.target, options);
  }

  /**
   * `DangKyHoTich`. Registering a `maLienThong` the registry already holds answers "đã tồn tại" and
   * changes nothing there, so it is a success (`created: false`): a retry never registers twice.
   */
  async register(request: CivilRegistryRequest, signal?: AbortSignal): Promise<CivilRegistryRegistration> {
    const answer = await this.call('POST', '/api/v1/hotich/dang-ky', 'DangKyHoTich', signal, request);
    const receipt = isRecord(answer.data) ? (answer.data as Partial<CivilRegistryReceipt>) : undefined;
    const status = typeof receipt?.trangThai === 'number' ? { trangThai: receipt.trangThai } : {};
    if (answer.code === CIVIL_REGISTRY_OK)
      return { created: true, maLienThong: request.maLienThong, ...status };
    // The registry tells an existing registration apart only by its message, read in NFC.
    if (answer.code === CIVIL_REGISTRY_REFUSED && /đã tồn tại/i.test(nfc(answer.message ?? ''))) {
      return { created: false, maLienThong: request.maLienThong, ...status };
    }
    throw this.refused('DangKyHoTich', answer);
  }

  /**
   * `TraCuuKetQua`: the registration's result, or `undefined` when the registry does not know the
   * code (e.g. it acknowledged a registration it then lost). Each call is a poll the registry counts.
   */
  async result(maLienThong: string, signal?: AbortSignal): Promise<CivilRegistryResult | undefined> {
    const path = `/api/v1/hotich/ket-qua/${encodeURIComponent(maLienThong)}`;
    const answer = await this.call('GET', path, 'TraCuuKetQua', signal);
    if (answer.code === CIVIL_REGISTRY_OK) {
      if (!isResult(answer.data)) {
        throw refusedError(this.target, `${this.target} answered TraCuuKetQua without a registration`);
      }
      return answer.data;
    }
    if (answer.code === CIVIL_REGISTRY_REFUSED && /không tìm thấy/i.test(nfc(answer.message ?? ''))) {
      return undefined;
    }
    throw this.refused('TraCuuKetQua', answer);
  }

  /** `DanhSachDangKy`: `size` registrations from position `from` (0-based), in order of receipt. */
  async list(from = 0, size = 500, signal?: AbortSignal): Promise<CivilRegistryPage> {
    const query = new URLSearchParams({ tu: String(from), soLuong: String(size) });
    const answer = await this.call('GET', `/api/v1/hotich/dang-ky?${query}`, 'DanhSachDangKy', signal);
    if (answer.code !== CIVIL_REGISTRY_OK || !Array.isArray(answer.data))
      throw this.refused('DanhSachDangKy', answer);
    return {
      total: typeof answer.tongSo === 'number' ? answer.tongSo : answer.data.length,
      items: answer.data.filter(isResult),
    };
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    operation: string,
    signal?: AbortSignal,
    body?: unknown,
  ): Promise<CivilRegistryAnswer> {
    const { response, text } = await this.http.exchange(method, path, { body, signal });
    const answer = parseJsonAnswer<CivilRegistryAnswer>(text, (v) => typeof v.code === 'string');
    if (!response.ok) {
      const message =
        answer?.message === undefined ? operation : `${operation}: ${redactIdNumbers(nfc(answer.message))}`;
      throw httpStatusError(this.target, response, message);
    }
    if (answer === undefined) throw notItsAnswer(this.target, operation, response.status);
    return answer;
  }

  private refused(operation: string, answer: CivilRegistryAnswer): ConnectorError {
    const message = redactIdNumbers(nfc(answer.message ?? `code ${answer.code}`));
    return refusedError(this.target, `${this.target} refused ${operation}: ${message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isResult(v: unknown): v is CivilRegistryResult {
  return isRecord(v) && typeof v.maLienThong === 'string' && typeof v.trangThai === 'number';
}

const nfc = (s: string): string => s.normalize('NFC');
