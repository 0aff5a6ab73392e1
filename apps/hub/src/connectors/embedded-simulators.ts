import type { Logger } from '#lgsp/observability';
import { startSimulators, type Listen, type SimulatorSuite } from '#lgsp/simulators';
import type { HubConfig } from '#lgsp/hub-config';

/** The path of the hub where the payment platform sends its callbacks. */
export const PAYMENT_CALLBACK_PATH = '/v1/callbacks/payments';

export interface EmbeddedSimulators {
  /** Points the payment platform's callbacks at this hub, once its address is known. */
  hubListening(hubUrl: string): void;
  stop(): Promise<void>;
}

/**
 * `simulators.embedded`: the five simulators (DVCLT beside the civil registry) in the hub process, each listening where its connector's
 * URL points (so `npm start` alone runs everything end to end), the payment platform sharing the
 * hub's `MaXacThuc` secret. Their control routes (`/_sim/*`) work as with `npm run simulators`.
 */
export async function startEmbeddedSimulators(
  config: HubConfig,
  logger: Logger,
): Promise<EmbeddedSimulators> {
  const c = config.connectors;
  const at = (url: string): Listen => {
    const { hostname, port } = new URL(url);
    return { port: Number(port || 80), host: hostname };
  };
  let simulators: SimulatorSuite;
  try {
    simulators = await startSimulators({
      portal: at(c.portal.url),
      oneStopShop: at(c.oneStopShop.url),
      civilRegistry: at(c.civilRegistry.url),
      payments: at(c.payments.url),
      interlinked: at(c.civilRegistry.dvcltUrl),
      paymentConfig: { secret: c.payments.secret },
      started: (simulator, url) => logger.info({ simulator, url }, 'simulator started in the hub process'),
    });
  } catch (err) {
    throw new Error(
      `cannot start the embedded simulators (is another process, e.g. npm run simulators, on their ports?): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return {
    hubListening(hubUrl) {
      simulators.payments.configure({ callbackUrl: `${hubUrl}${PAYMENT_CALLBACK_PATH}` });
    },
    stop: () => simulators.stop(),
  };
}
