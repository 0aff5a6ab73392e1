import {
  DossierSyncConnector,
  type DossierSyncOutcome,
  type DossierSyncSettings,
} from '../core/dossier-sync-connector.js';
import type { PortalClient } from './portal-client.js';
import { PORTAL_TARGET, portalFacts, toPortalDossier, toPortalProgress } from './portal-mapping.js';

export interface PortalSyncConnectorOptions extends DossierSyncSettings {
  client: PortalClient;
}

/** What happened to each dossier of a batch, for tests and metrics. */
export type PortalBatchOutcome = DossierSyncOutcome;

/**
 * The outbound sync to the national portal (`connector.portal`, target `portal`).
 *
 * Each dossier's state is sent whole: `DongBoHoSoMC` (create, or update when it exists, so the portal
 * never holds a second dossier) and its progress records (`CapNhatTienDoHoSoMC`, which keeps an
 * identical record once). See {@link DossierSyncConnector} for batching, parking and redelivery.
 */
export class PortalSyncConnector extends DossierSyncConnector {
  constructor(options: PortalSyncConnectorOptions) {
    const { client, ...settings } = options;
    super({
      ...settings,
      name: 'connector.portal',
      target: PORTAL_TARGET,
      send: async ({ dossier, view, events }, signal) => {
        const facts = portalFacts(events);
        await client.syncDossier(toPortalDossier(view, facts), signal);
        await client.pushProgress(toPortalProgress(dossier, facts), signal);
      },
    });
  }
}
