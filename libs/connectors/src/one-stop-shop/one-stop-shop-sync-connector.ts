import { DossierSyncConnector, type DossierSyncSettings } from '../core/dossier-sync-connector.js';
import { ConnectorError, isConnectorError } from '../core/errors.js';
import type { OneStopShopClient } from './one-stop-shop-client.js';
import {
  ONE_STOP_SHOP_TARGET,
  oneStopShopFacts,
  toOneStopShopDossier,
  toOneStopShopProgress,
} from './one-stop-shop-mapping.js';

export interface OneStopShopSyncConnectorOptions extends DossierSyncSettings {
  client: OneStopShopClient;
}

/**
 * The outbound sync to a province's one-stop-shop (`connector.one-stop-shop`, target
 * `one-stop-shop`).
 *
 * Each dossier's state is sent whole with its stream version as `phien_ban` (`CapNhatHoSo`; the shop
 * refuses an older version with 409, which the client takes as done), then its progress entries
 * (`ThemTienDo`, which keeps an identical entry once), so repeating a delivery is harmless. A 404 on
 * the progress right after the dossier was accepted means the shop lost that write: retriable. See
 * {@link DossierSyncConnector} for batching, parking and redelivery.
 */
export class OneStopShopSyncConnector extends DossierSyncConnector {
  constructor(options: OneStopShopSyncConnectorOptions) {
    const { client, ...settings } = options;
    super({
      ...settings,
      name: 'connector.one-stop-shop',
      target: ONE_STOP_SHOP_TARGET,
      send: async (state, signal) => {
        const facts = oneStopShopFacts(state.events);
        const body = toOneStopShopDossier(state, facts);
        const progress = toOneStopShopProgress(state, facts);
        await client.putDossier(state.dossier, body, signal);
        try {
          await client.addProgress(state.dossier, progress, signal);
        } catch (err) {
          // The shop has just accepted the dossier, so "unknown dossier" means it lost that write:
          // sending the whole state again can succeed, the data is not at fault.
          if (isConnectorError(err) && err.status === 404) {
            throw new ConnectorError(
              `${client.target} lost dossier ${state.dossier} it had just accepted (ThemTienDo answered 404)`,
              { kind: 'retriable', code: 'unavailable', target: client.target, status: 404, cause: err },
            );
          }
          throw err;
        }
      },
    });
  }
}
