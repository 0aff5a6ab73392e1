import { CivilRegistrySimulator } from './civil-registry/civil-registry.js';
import type { Simulator } from './http.js';
import { InterlinkedServicesSimulator } from './interlinked/dvclt.js';
import { OneStopShopSimulator } from './one-stop-shop/one-stop-shop.js';
import { PaymentPlatformSimulator } from './payments/payment-platform.js';
import { NationalPortalSimulator } from './portal/national-portal.js';

/** Where one simulator listens. */
export interface Listen {
  port: number;
  host: string;
}

export interface SimulatorSuiteOptions {
  portal: Listen;
  oneStopShop: Listen;
  civilRegistry: Listen;
  payments: Listen;
  /** The interlinked-services portal (DVCLT), which the civil-registry connector calls; not started when absent. */
  interlinked?: Listen;
  /** The payment platform's settings (`secret`, `callbackUrl`, …), as `POST /_sim/config` takes them. */
  paymentConfig?: Record<string, unknown>;
  /** Told of each simulator once it listens. */
  started?: (simulator: string, url: string) => void;
}

export interface SimulatorSuite {
  /** The payment platform, whose callback address is often known only once the hub listens. */
  payments: PaymentPlatformSimulator;
  stop(): Promise<void>;
}

/**
 * Starts the simulators one after the other (the national portal, the one-stop-shop, the civil
 * registry, the payment platform, then the interlinked-services portal DVCLT when `interlinked` is given): `npm run simulators` and the hub's embedded mode. When one cannot
 * listen, those already started are stopped and its error is thrown.
 */
export async function startSimulators(options: SimulatorSuiteOptions): Promise<SimulatorSuite> {
  const payments = new PaymentPlatformSimulator();
  payments.configure(options.paymentConfig ?? {});
  const simulators: [Simulator, Listen][] = [
    [new NationalPortalSimulator(), options.portal],
    [new OneStopShopSimulator(), options.oneStopShop],
    [new CivilRegistrySimulator(), options.civilRegistry],
    [payments, options.payments],
  ];
  if (options.interlinked !== undefined)
    simulators.push([new InterlinkedServicesSimulator(), options.interlinked]);
  const started: Simulator[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  try {
    for (const [simulator, { port, host }] of simulators) {
      const { url } = await simulator.start(port, host);
      started.push(simulator);
      options.started?.(simulator.name, url);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { payments, stop };
}
