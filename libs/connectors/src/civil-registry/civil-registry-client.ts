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
  CIVIL_REGISTRY_EXISTS,
  CIVIL_REGISTRY_OK,
  CIVIL_REGISTRY_REFUSED,
  type CivilRegistryAnswer,
  type CivilRegistryRequest,
  type CivilRegistryResult,
  type CivilRegistryResultQuery,
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
  /** False when the registry already held this `maHoSoMCDT` (`DA_TON_TAI`): nothing new was made. */
  created: boolean;
  maHoSoMCDT: string;
}

export interface CivilRegistryPage {
  /** Dossiers in the registry in all. */
  total: number;
  items: CivilRegistryResult[];
}

/** The paths of the registry's operations (the public code names the operations, not the paths). */
export const CIVIL_REGISTRY_PATHS = {
  receive: '/api/NhanDKHT',
  results: '/api/LayKetQua',
  list: '/api/DanhSachHoSo',
} as const;

/**
 * A client of the Ministry of Justice civil-registry exchange: every answer is `{status: "1" | "0",
 * statusDescription, errorCode, errorDescription, value?}`. Every failure is a {@link ConnectorError}:
 * no answer, a timeout, 408/429/5xx and a body that is not the registry's JSON are `retriable` (with
 * its Retry-After); a 400 and a refusal (`status` "0") are `data`, except `DA_TON_TAI` (already
 * received) for {@link receive}, which is an answer. Messages quoting values are redacted of
 * anything that looks like a citizen ID.
 */
export class CivilRegistryClient {
  readonly target: string;
  private readonly http: HttpExchange;

  constructor(options: CivilRegistryClientOptions) {
    this.target = options.target ?? CIVIL_REGISTRY_TARGET;
    this.http = new HttpExchange(this.target, options);
  }

  /**
   * `NhanDKHT`. Sending a `maHoSoMCDT` the registry holds answers `DA_TON_TAI` and changes nothing
   * there, so it is a success (`created: false`): a retry never registers twice.
   */
  async receive(request: CivilRegistryRequest, signal?: AbortSignal): Promise<CivilRegistryRegistration> {
    const answer = await this.call(CIVIL_REGISTRY_PATHS.receive, 'NhanDKHT', request, signal);
    if (answer.status === CIVIL_REGISTRY_OK) return { created: true, maHoSoMCDT: request.maHoSoMCDT };
    if (answer.status === CIVIL_REGISTRY_REFUSED && answer.errorCode === CIVIL_REGISTRY_EXISTS) {
      return { created: false, maHoSoMCDT: request.maHoSoMCDT };
    }
    throw this.refused('NhanDKHT', answer);
  }

  /**
   * `LayKetQua`: the results of several dossiers of one province and module in one call, by
   * `maHoSoMCDT`. A dossier the registry does not know is absent from the answer (e.g. one it
   * acknowledged and then lost). Each call is a poll the registry counts.
   */
  async results(
    query: CivilRegistryResultQuery,
    signal?: AbortSignal,
  ): Promise<Map<string, CivilRegistryResult>> {
    const answer = await this.call(CIVIL_REGISTRY_PATHS.results, 'LayKetQua', query, signal);
    if (answer.status !== CIVIL_REGISTRY_OK) throw this.refused('LayKetQua', answer);
    if (!Array.isArray(answer.value)) {
      throw refusedError(this.target, `${this.target} answered LayKetQua without a list of results`);
    }
    const asked = new Set(query.maDinhDanhHoSo);
    const out = new Map<string, CivilRegistryResult>();
    for (const v of answer.value) {
      if (!isResult(v))
        throw refusedError(this.target, `${this.target} answered LayKetQua with a malformed result`);
      if (!asked.has(v.maHoSoMCDT))
        throw refusedError(this.target, `${this.target} answered LayKetQua for a dossier not asked for`);
      out.set(v.maHoSoMCDT, v);
    }
    return out;
  }

  /** `DanhSachHoSo`: `size` dossiers from position `from` (0-based), in order of receipt. */
  async list(from = 0, size = 500, signal?: AbortSignal): Promise<CivilRegistryPage> {
    const answer = await this.call(
      CIVIL_REGISTRY_PATHS.list,
      'DanhSachHoSo',
      { tu: from, soLuong: size },
      signal,
    );
    if (answer.status !== CIVIL_REGISTRY_OK || !Array.isArray(answer.value))
      throw this.refused('DanhSachHoSo', answer);
    return {
      total: typeof answer.tongSo === 'number' ? answer.tongSo : answer.value.length,
      items: answer.value.filter(isResult),
    };
  }

  private call(
    path: string,
    operation: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<CivilRegistryAnswer> {
    return postCivilCall(this.http, this.target, path, operation, body, signal);
  }

  private refused(operation: string, answer: CivilRegistryAnswer): ConnectorError {
    return refusedCivilCall(this.target, operation, answer);
  }
}

/**
 * One POST in the Ministry of Justice's exchange style, shared by the registry and DVCLT (their answers
 * have one shape): a non-2xx status or a body that is not such an answer throws; the answer is
 * returned whatever its `status`, for the caller to judge. Reasons are NFC, ID numbers redacted.
 */
export async function postCivilCall(
  http: HttpExchange,
  target: string,
  path: string,
  operation: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<CivilRegistryAnswer> {
  const { response, text } = await http.exchange('POST', path, { body, signal });
  const answer = parseJsonAnswer<CivilRegistryAnswer>(text, (v) => typeof v.status === 'string');
  if (!response.ok) {
    const reason = answer?.errorDescription;
    const message = reason === undefined ? operation : `${operation}: ${redactIdNumbers(nfc(reason))}`;
    throw httpStatusError(target, response, message);
  }
  if (answer === undefined) throw notItsAnswer(target, operation, response.status);
  return answer;
}

/** The refusal of `operation` an answer whose `status` is not "1" means (reason NFC, ID numbers redacted). */
export function refusedCivilCall(
  target: string,
  operation: string,
  answer: CivilRegistryAnswer,
): ConnectorError {
  const reason = answer.errorDescription ?? answer.statusDescription ?? `status ${answer.status}`;
  const code = answer.errorCode ? ` (${answer.errorCode})` : '';
  return refusedError(target, `${target} refused ${operation}${code}: ${redactIdNumbers(nfc(reason))}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isResult(v: unknown): v is CivilRegistryResult {
  return isRecord(v) && typeof v.maHoSoMCDT === 'string' && typeof v.trangThai === 'number';
}

const nfc = (s: string): string => s.normalize('NFC');
