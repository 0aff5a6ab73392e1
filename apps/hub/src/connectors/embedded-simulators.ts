import type { Logger } from '#lgsp/observability';
import {
  CivilRegistrySimulator,
  NationalPortalSimulator,
  OneStopShopSimulator,
  PaymentPlatformSimulator,
  type Simulator,
} from '#lgsp/simulators';
import type { HubConfig } from '#lgsp/hub-config';

/** The path of the hub where the payment platform sends its callbacks. */
export const PAYMENT_CALLBACK_PATH = '/v1/callbacks/payments';

export interface EmbeddedSimulators {
  /** Points the payment platform's callbacks at this hub, once its address is known. */
  hubListening(hubUrl: string): void;
  stop(): Promise<void>;
}

/**
 * `simulators.embedded`: the four simulators in the hub process, each listening where its connector's
 * URL points (so `npm start` alone runs everything end to end), the payment platform sharing the
 * hub's `MaXacThuc` secret. Their control routes (`/_sim/*`) work as with `npm run simulators`.
 */
export async function startEmbeddedSimulators(
  config: HubConfig,
  logger: Logger,
): Promise<EmbeddedSimulators> {
  const c = config.connectors;
  const payments = new PaymentPlatformSimulator();
  payments.configure({ secret: c.payments.secret });
  const simulators: [Simulator, string][] = [
    [new NationalPortalSimulator(), c.portal.url],
    [new OneStopShopSimulator(), c.oneStopShop.url],
    [new CivilRegistrySimulator(), c.civilRegistry.url],
    [payments, c.payments.url],
  ];
  const started: Simulator[] = [];
  try {
    for (const [simulator, url] of simulators) {
      const { hostname, port } = new URL(url);
      const at = await simulator.start(Number(port || 80), hostname);
      started.push(simulator);
      logger.info({ simulator: simulator.name, url: at.url }, 'simulator started in the hub process');
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw new Error(
      `cannot start the embedded simulators (is another process, e.g. npm run simulators, on their ports?): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return {
    hubListening(hubUrl) {
      payments.configure({ callbackUrl: `${hubUrl}${PAYMENT_CALLBACK_PATH}` });
    },
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
    },
  };
}
