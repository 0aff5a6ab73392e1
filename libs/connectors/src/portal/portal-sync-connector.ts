import {
  DossierSyncConnector,
  type DossierSyncOutcome,
  type DossierSyncSettings,
} from '../core/dossier-sync-connector.js';
import type { PortalClient } from './portal-client.js';
import {
  needsCatalogue,
  PORTAL_TARGET,
  portalFacts,
  toPortalDossier,
  toPortalProgress,
  type PortalDossierDefaults,
} from './portal-mapping.js';
import { ProcedureCatalogue } from './procedure-catalogue.js';

export interface PortalSyncConnectorOptions extends DossierSyncSettings {
  client: PortalClient;
  /**
   * The procedure catalogue the mapping fills `TenTTHC`, `MaLinhVuc`, `TenLinhVuc` (and `NgayHenTra`
   * from the time limit) from when the events lack them. @defaultValue a catalogue over `client`
   */
  catalogue?: ProcedureCatalogue;
  /** What the deployment configures for the fields the events may lack. @defaultValue {} */
  dossierDefaults?: PortalDossierDefaults;
}

/** What happened to each dossier of a batch, for tests and metrics. */
export type PortalBatchOutcome = DossierSyncOutcome;

/**
 * The outbound sync to the national portal (`connector.portal`, target `portal`).
 *
 * Each dossier's state is sent whole: `DongBoHoSoMC` (create, or update when it exists, so the portal
 * never holds a second dossier) and its progress records (`CapNhatTienDoHoSoMC`, which keeps an
 * identical record once). When the events lack the procedure's name, field or due date, the
 * procedure is looked up in the portal's catalogue first (cached); a procedure the catalogue does
 * not know parks the dossier with that reason. See {@link DossierSyncConnector} for batching,
 * parking and redelivery.
 */
export class PortalSyncConnector extends DossierSyncConnector {
  readonly catalogue: ProcedureCatalogue;

  constructor(options: PortalSyncConnectorOptions) {
    const { client, catalogue = new ProcedureCatalogue({ client }), dossierDefaults, ...settings } = options;
    super({
      ...settings,
      name: 'connector.portal',
      target: PORTAL_TARGET,
      send: async ({ dossier, view, events }, signal) => {
        const facts = portalFacts(events);
        const procedure =
          needsCatalogue(view, facts) && view.procedureCode !== undefined
            ? await catalogue.get(view.procedureCode, dossier, signal)
            : undefined;
        const record = toPortalDossier(view, facts, {
          ...(procedure === undefined ? {} : { procedure }),
          ...(dossierDefaults === undefined ? {} : { defaults: dossierDefaults }),
        });
        await client.syncDossier(record, signal);
        await client.pushProgress(toPortalProgress(dossier, facts), signal);
      },
    });
    this.catalogue = catalogue;
  }
}
