import { HttpExchange, refusedError } from '../core/http-exchange.js';
import { postCivilCall, refusedCivilCall } from './civil-registry-client.js';
import {
  CIVIL_REGISTRY_OK,
  type CivilRegistryAnswer,
  type DvcltCodeRequest,
  type DvcltStatusReport,
} from './external/civil-registry-wire.js';

/** The target name of the interlinked-services portal in errors and logs. */
export const DVCLT_TARGET = 'dvclt';

/** The paths of DVCLT's operations (no public trace: unconfirmed, see README.md). */
export const DVCLT_PATHS = {
  issueCode: '/api/CapMaHoSoLT',
  report: '/api/CapNhatTrangThai',
} as const;

export interface DvcltClientOptions {
  /** Base URL of DVCLT, e.g. `http://127.0.0.1:4105`. */
  baseUrl: string;
  /** Per HTTP call. @defaultValue 10000 */
  timeoutMs?: number;
  /** @defaultValue the global fetch */
  fetch?: typeof fetch;
}

/**
 * A client of the interlinked-services portal (DVCLT): `CapMaHoSoLT` issues a dossier's interlinked
 * code (the same code again for the same dossier), `CapNhatTrangThai` takes a status report. Answers
 * are `{status: "1" | "0", errorCode, errorDescription, value?}`; failures are {@link ConnectorError}s
 * as for the civil registry (no answer, 408/429/5xx `retriable`; 400 and `status` "0" `data`).
 */
export class DvcltClient {
  readonly target = DVCLT_TARGET;
  private readonly http: HttpExchange;

  constructor(options: DvcltClientOptions) {
    this.http = new HttpExchange(DVCLT_TARGET, options);
  }

  /** `CapMaHoSoLT`: the dossier's `maHoSoLT`. */
  async issueCode(request: DvcltCodeRequest, signal?: AbortSignal): Promise<string> {
    const answer = await this.call(DVCLT_PATHS.issueCode, 'CapMaHoSoLT', request, signal);
    const value = answer.value as { maHoSoLT?: unknown } | undefined;
    const code = typeof value === 'object' && value !== null ? value.maHoSoLT : undefined;
    if (typeof code !== 'string' || !/^[0-9A-Za-z.\-_]{1,50}$/.test(code)) {
      throw refusedError(DVCLT_TARGET, `${DVCLT_TARGET} answered CapMaHoSoLT without an interlinked code`);
    }
    return code;
  }

  /** `CapNhatTrangThai`: reports a status of an interlinked dossier. */
  async report(report: DvcltStatusReport, signal?: AbortSignal): Promise<void> {
    await this.call(DVCLT_PATHS.report, 'CapNhatTrangThai', report, signal);
  }

  private async call(
    path: string,
    operation: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<CivilRegistryAnswer> {
    const answer = await postCivilCall(this.http, DVCLT_TARGET, path, operation, body, signal);
    if (answer.status !== CIVIL_REGISTRY_OK) throw refusedCivilCall(DVCLT_TARGET, operation, answer);
    return answer;
  }
}
