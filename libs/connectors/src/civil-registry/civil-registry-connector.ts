import type { RegistrationSubject } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { silentLogger } from '#lgsp/observability';
import { currentReplay, replayOfWork } from '../core/replay-context.js';

import { systemClock } from '../core/clock.js';
import {
  DOSSIER_STREAM_PREFIX,
  DossierSyncConnector,
  type DossierState,
  type DossierSyncSettings,
} from '../core/dossier-sync-connector.js';
import { mappingError } from '../core/errors.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { formatVn, toVnRfc3339 } from '../core/vn-time.js';
import type { CivilRegistryClient } from './civil-registry-client.js';
import type { DvcltClient } from './dvclt-client.js';
import {
  BIRTH_PROCEDURE_CODE,
  type CivilRegistryDraft,
  CIVIL_REGISTRY_DOSSIER_STATUS,
  CIVIL_REGISTRY_SOURCE,
  CIVIL_REGISTRY_TARGET,
  hasCivilRegistryResult,
  registrationErased,
  registrationSubject,
  submissionOf,
  toCivilRegistryRequest,
} from './civil-registry-mapping.js';
import {
  CIVIL_REGISTRY_STATUS,
  type CivilRegistryRequest,
  type DvcltCodeRequest,
} from './external/civil-registry-wire.js';

/**
 * DVCLT's status codes the hub reports, by what happened. The codes 1, 2, 3, 7 (sent to the ministry),
 * 4, 5, 6 come from one public code base; which step each of 1–6 names is unconfirmed, so the whole
 * table is configurable (`dvcltStatuses`).
 */
export interface DvcltStatusCodes {
  /** The province received the dossier (reported before it goes to the ministry). @defaultValue 1 */
  received: number;
  /** Processing resumed after a supplement. @defaultValue 2 */
  processing: number;
  /** The registry asked for a supplement. @defaultValue 3 */
  supplementNeeded: number;
  /** Sent to the Ministry of Justice (`NhanDKHT` accepted). @defaultValue 7 */
  sentToMinistry: number;
  /** The registry registered it. @defaultValue 4 */
  done: number;
  /** The result was handed to the citizen (dossier status 10). @defaultValue 5 */
  returned: number;
  /** The registry refused it. @defaultValue 6 */
  rejected: number;
}

export const DEFAULT_DVCLT_STATUSES: DvcltStatusCodes = {
  received: 1,
  processing: 2,
  supplementNeeded: 3,
  sentToMinistry: 7,
  done: 4,
  returned: 5,
  rejected: 6,
};

/** `coQuanXuLy` of the hub's reports: the province's civil-status office. */
export const DVCLT_REPORTING_BODY = 5;

/** What reports statuses to DVCLT: the client, the code table and the reporting body. */
export interface DvcltReporting {
  client: Pick<DvcltClient, 'issueCode' | 'report'>;
  /** @defaultValue {@link DEFAULT_DVCLT_STATUSES} */
  statuses?: Partial<DvcltStatusCodes>;
  /** @defaultValue 5 */
  coQuanXuLy?: number;
}

/**
 * The payload of a registration's pending item (target `civil-registry`, key `maHoSoMCDT`): what the
 * result poller needs without reading the submission again. Holds personal data: never logged.
 */
export interface CivilRegistryPendingPayload {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  registrationType: 'birth';
  person: RegistrationSubject;
  /** The request as sent (with its `maHoSoLT`), to send again should the registry have lost it. */
  request: CivilRegistryRequest;
  /** The registry's status at the last successful poll (1 until then). */
  lastStatus: number;
  /** True once status 2 (supplement needed) was seen: a later 3 or 4 resumes processing. */
  supplementRequested: boolean;
  /** Failed polls in a row, for the backoff; 0 after a successful one. */
  failures: number;
}

export interface CivilRegistryConnectorOptions extends DossierSyncSettings {
  client: Pick<CivilRegistryClient, 'receive'>;
  /** The interlinked-services portal: `maHoSoLT` before `NhanDKHT`, status reports after. */
  dvclt: DvcltReporting;
  /** Where the registration's result polling is scheduled (shared with the result poller). */
  pending: PendingWorkStore;
  /** Delay from the registration to the first poll. @defaultValue 60000 */
  pollIntervalMs?: number;
}

/**
 * The outbound registration with the civil registry (`connector.civil-registry`, target
 * `civil-registry`).
 *
 * When a dossier whose submission carries a `civilRegistration` goes into processing (a status change
 * to 4, not one captured from the registry), it asks DVCLT for the dossier's interlinked code
 * (`CapMaHoSoLT`, the same code again for the same dossier), reports it received (1), sends `NhanDKHT`,
 * reports it sent to the ministry (7) and schedules the batch polling of its result as pending work;
 * the {@link CivilRegistryResultPoller} captures the result (and reports it to DVCLT). When such a
 * dossier, registered, is handed to the citizen (status 10) it reports 5. Dossiers without a
 * `civilRegistration` cause no call. A dossier whose log already holds a captured result, or whose
 * polling is pending, is not sent again. Sending twice is harmless anyway: the registry answers
 * `DA_TON_TAI` for a `maHoSoMCDT` it holds, and DVCLT ignores a repeated report.
 *
 * `person.erased` causes no call: a civil-status record is kept by the registry by law (Law 60/2014,
 * Decree 87/2020), so the hub does not ask it to delete, and nothing personal is sent. A registration
 * whose personal data was erased before it was sent parks (`mapping`): the registry cannot register it.
 */
export class CivilRegistryConnector extends DossierSyncConnector {
  constructor(options: CivilRegistryConnectorOptions) {
    const { client, dvclt, pending, pollIntervalMs = 60_000, ...settings } = options;
    const clock = settings.clock ?? systemClock;
    const events = settings.events;
    const logger = settings.logger ?? silentLogger;
    const statuses = { ...DEFAULT_DVCLT_STATUSES, ...dvclt.statuses };
    const coQuanXuLy = dvclt.coQuanXuLy ?? DVCLT_REPORTING_BODY;
    const report = (maHoSoLT: string, trangThai: number, signal?: AbortSignal) =>
      dvclt.client.report(
        { maHoSoLT, trangThai, coQuanXuLy, thoiGian: formatVn(clock.now(), 'portal') },
        signal,
      );
    super({
      ...settings,
      name: 'connector.civil-registry',
      target: CIVIL_REGISTRY_TARGET,
      wants: wantsRegistration,
      send: async (state, signal) => {
        const draft = toCivilRegistryRequest(state);
        if (draft === undefined) return;
        const code = interlinkedCodeRequest(state, draft);
        const registered = hasCivilRegistryResult(state.events);
        if (
          state.view.status === RETURNED &&
          state.view.civilStatus !== undefined &&
          currentReplay() === undefined
        ) {
          // Handed to the citizen: the last report of the interlinked dossier.
          await report(await dvclt.client.issueCode(code, signal), statuses.returned, signal);
          return;
        }
        if (!startedProcessing(state.events)) return;
        // An operator's replay asks the registry again whatever the log says: the registry may have
        // lost the registration (reconciliation's "missing civil record"), and sending a dossier it
        // holds changes nothing there (`DA_TON_TAI`).
        const replaying = currentReplay() !== undefined;
        if (!replaying) {
          if (registered || hasCivilRegistryResult(await laterEvents(state))) return;
          if ((await pending.get(CIVIL_REGISTRY_TARGET, draft.maHoSoMCDT)) !== undefined) return;
        }
        if (registrationErased(state.events)) {
          // The registry keeps what it registered (Law 60/2014): nothing to send for a registered
          // dossier. One not sent yet cannot be: the person's data is gone.
          if (registered) return;
          throw mappingError(
            CIVIL_REGISTRY_TARGET,
            `dossier ${state.dossier}: the registration's personal data was erased before it was sent`,
          );
        }
        const maHoSoLT = await dvclt.client.issueCode(code, signal);
        await report(maHoSoLT, statuses.received, signal);
        const request: CivilRegistryRequest = { ...draft, maHoSoLT };
        const { created } = await client.receive(request, signal);
        await report(maHoSoLT, statuses.sentToMinistry, signal);
        // A replayed registration the registry already held needs no new polling.
        if (replaying && !created) return;
        logger.info(
          { target: CIVIL_REGISTRY_TARGET, dossier: state.dossier, maHoSoLT, created },
          created ? 'civil registry registration requested' : 'civil registry registration already held',
        );
        const payload = pendingPayload(state, request);
        const now = clock.now();
        await pending.schedule({
          target: CIVIL_REGISTRY_TARGET,
          key: request.maHoSoMCDT,
          dossier: state.dossier,
          payload,
          dueAt: now + pollIntervalMs,
          createdAt: toVnRfc3339(now),
          ...replayOfWork(),
        });
      },
    });

    /** The dossier's events after `state` (a batch's state may be behind the log, e.g. in a replay). */
    async function laterEvents(state: DossierState): Promise<StoredEvent[]> {
      return events.readStream(`${DOSSIER_STREAM_PREFIX}${state.dossier}`, {
        fromVersion: state.view.streamVersion + 1,
        limit: 10_000,
      });
    }
  }
}

/** Dossier status 10: the result handed to the citizen. */
const RETURNED = 10;

/** The `CapMaHoSoLT` request of a dossier: its procedure code when it has one of the national form. */
export function interlinkedCodeRequest(state: DossierState, draft: CivilRegistryDraft): DvcltCodeRequest {
  const procedure = state.view.procedureCode;
  return {
    maHoSoMCDT: draft.maHoSoMCDT,
    maDonVi: draft.maDonVi,
    maTTHC:
      procedure !== undefined && /^\d{1,2}\.\d{6}(\.[0-9A-Z]+)*$/.test(procedure)
        ? procedure
        : BIRTH_PROCEDURE_CODE,
    module: draft.module,
  };
}

/**
 * A status change to 4 (in processing) or 10 (returned) made by the hub's users, not one captured
 * from the registry.
 */
function wantsRegistration(event: StoredEvent): boolean {
  if (event.type !== STATUS_CHANGED || event.source === CIVIL_REGISTRY_SOURCE) return false;
  const status = (event.data as { status?: unknown } | null)?.status;
  return status === CIVIL_REGISTRY_DOSSIER_STATUS.processing || status === RETURNED;
}

/** True when the hub's users put the dossier into processing (4) at some point. */
function startedProcessing(events: readonly StoredEvent[]): boolean {
  return events.some(
    (e) =>
      e.type === STATUS_CHANGED &&
      e.source !== CIVIL_REGISTRY_SOURCE &&
      (e.data as { status?: unknown } | null)?.status === CIVIL_REGISTRY_DOSSIER_STATUS.processing,
  );
}

const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

function pendingPayload(state: DossierState, request: CivilRegistryRequest): CivilRegistryPendingPayload {
  const registration = submissionOf(state.events)?.civilRegistration;
  if (registration === undefined) {
    throw mappingError(CIVIL_REGISTRY_TARGET, `dossier ${state.dossier}: no civilRegistration`);
  }
  return {
    dossierCode: state.view.dossierCode,
    provinceCode: state.view.provinceCode,
    communeCode: state.view.communeCode,
    registrationType: registration.registrationType,
    person: registrationSubject(registration),
    request,
    lastStatus: CIVIL_REGISTRY_STATUS.received,
    supplementRequested: false,
    failures: 0,
  };
}
