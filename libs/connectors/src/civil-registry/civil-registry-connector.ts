import type { RegistrationSubject } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { silentLogger } from '#lgsp/observability';
import { currentReplay } from '../core/replay-context.js';

import { systemClock } from '../core/clock.js';
import {
  DOSSIER_STREAM_PREFIX,
  DossierSyncConnector,
  type DossierState,
  type DossierSyncSettings,
} from '../core/dossier-sync-connector.js';
import { mappingError } from '../core/errors.js';
import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { toVnRfc3339 } from '../core/vn-time.js';
import type { CivilRegistryClient } from './civil-registry-client.js';
import {
  CIVIL_REGISTRY_DOSSIER_STATUS,
  CIVIL_REGISTRY_SOURCE,
  CIVIL_REGISTRY_TARGET,
  hasCivilRegistryResult,
  registrationSubject,
  submissionOf,
  toCivilRegistryRequest,
} from './civil-registry-mapping.js';
import { CIVIL_REGISTRY_STATUS, type CivilRegistryRequest } from './external/civil-registry-wire.js';

/**
 * The payload of a registration's pending item (target `civil-registry`, key `maLienThong`): what the
 * result poller needs without reading the submission again. Holds personal data: never logged.
 */
export interface CivilRegistryPendingPayload {
  dossierCode: string;
  provinceCode: string;
  communeCode: string;
  registrationType: 'birth';
  person: RegistrationSubject;
  /** The request as sent, to register again should the registry have lost it. */
  request: CivilRegistryRequest;
  /** The registry's status at the last successful poll (1 until then). */
  lastStatus: number;
  /** True once status 2 (supplement needed) was seen: a later 3 or 4 resumes processing. */
  supplementRequested: boolean;
  /** Failed polls in a row, for the backoff; 0 after a successful one. */
  failures: number;
}

export interface CivilRegistryConnectorOptions extends DossierSyncSettings {
  client: CivilRegistryClient;
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
 * to 4, not one captured from the registry), it sends `DangKyHoTich` and schedules the polling of its
 * result as pending work; the {@link CivilRegistryResultPoller} captures the result. Dossiers without a
 * `civilRegistration` cause no call. A dossier whose log already holds a captured result, or whose
 * polling is pending, is not sent again. Sending twice is harmless anyway: the registration code
 * depends on the dossier code alone and the registry answers "đã tồn tại" for a known one.
 */
export class CivilRegistryConnector extends DossierSyncConnector {
  constructor(options: CivilRegistryConnectorOptions) {
    const { client, pending, pollIntervalMs = 60_000, ...settings } = options;
    const clock = settings.clock ?? systemClock;
    const events = settings.events;
    const logger = settings.logger ?? silentLogger;
    super({
      ...settings,
      name: 'connector.civil-registry',
      target: CIVIL_REGISTRY_TARGET,
      wants: wantsRegistration,
      send: async (state, signal) => {
        const request = toCivilRegistryRequest(state);
        if (request === undefined) return;
        // An operator's replay asks the registry again whatever the log says: the registry may have
        // lost the registration (reconciliation's "missing civil record"), and registering a code it
        // holds changes nothing there ("đã tồn tại").
        const replaying = currentReplay() !== undefined;
        if (!replaying) {
          if (hasCivilRegistryResult(state.events) || hasCivilRegistryResult(await laterEvents(state)))
            return;
          if ((await pending.get(CIVIL_REGISTRY_TARGET, request.maLienThong)) !== undefined) return;
        }
        const { created } = await client.register(request, signal);
        // A replayed registration the registry already held needs no new polling.
        if (replaying && !created) return;
        logger.info(
          {
            target: CIVIL_REGISTRY_TARGET,
            dossier: state.dossier,
            maLienThong: request.maLienThong,
            created,
          },
          created ? 'civil registry registration requested' : 'civil registry registration already held',
        );
        const payload = pendingPayload(state, request);
        const now = clock.now();
        await pending.schedule({
          target: CIVIL_REGISTRY_TARGET,
          key: request.maLienThong,
          dossier: state.dossier,
          payload,
          dueAt: now + pollIntervalMs,
          createdAt: toVnRfc3339(now),
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

/** A status change to 4 (in processing) made by the hub's users, not one captured from the registry. */
function wantsRegistration(event: StoredEvent): boolean {
  if (event.type !== 'vn.gov.lgsp.dossier.status-changed.v1' || event.source === CIVIL_REGISTRY_SOURCE)
    return false;
  return (event.data as { status?: unknown } | null)?.status === CIVIL_REGISTRY_DOSSIER_STATUS.processing;
}

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
