import { DossierSyncConnector, type DossierSyncSettings } from '../core/dossier-sync-connector.js';
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
 * (`ThemTienDo`, which keeps an identical entry once), so repeating a delivery is harmless. See
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
        await client.addProgress(state.dossier, progress, signal);
      },
    });
  }
}
