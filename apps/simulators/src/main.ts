import { startSimulators } from '#lgsp/simulators';

/**
 * Starts the five simulators, each on its own port, and prints one JSON line per simulator:
 * `{"simulator":"national-portal","url":"http://127.0.0.1:4101"}`.
 *
 * Environment: `LGSP_SIM_PORTAL_PORT` (default 4101), `LGSP_SIM_ONE_STOP_SHOP_PORT` (4102),
 * `LGSP_SIM_CIVIL_REGISTRY_PORT` (4103), `LGSP_SIM_PAYMENTS_PORT` (4104), `LGSP_SIM_DVCLT_PORT` (4105), `LGSP_SIM_HOST`
 * (127.0.0.1), `LGSP_SIM_PAYMENTS_SECRET`, `LGSP_SIM_PAYMENTS_CALLBACK_URL`.
 */
function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`simulators: ${name}=${raw} is not a port\n`);
    process.exit(78);
  }
  return n;
}

async function main(): Promise<void> {
  const host = process.env.LGSP_SIM_HOST ?? '127.0.0.1';
  const paymentConfig: Record<string, string> = {};
  if (process.env.LGSP_SIM_PAYMENTS_SECRET) paymentConfig.secret = process.env.LGSP_SIM_PAYMENTS_SECRET;
  if (process.env.LGSP_SIM_PAYMENTS_CALLBACK_URL) {
    paymentConfig.callbackUrl = process.env.LGSP_SIM_PAYMENTS_CALLBACK_URL;
  }
  const simulators = await startSimulators({
    portal: { port: port('LGSP_SIM_PORTAL_PORT', 4101), host },
    oneStopShop: { port: port('LGSP_SIM_ONE_STOP_SHOP_PORT', 4102), host },
    civilRegistry: { port: port('LGSP_SIM_CIVIL_REGISTRY_PORT', 4103), host },
    payments: { port: port('LGSP_SIM_PAYMENTS_PORT', 4104), host },
    interlinked: { port: port('LGSP_SIM_DVCLT_PORT', 4105), host },
    paymentConfig,
    started: (simulator, url) => process.stdout.write(`${JSON.stringify({ simulator, url })}\n`),
  });
  const shutdown = (): void => {
    void simulators.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`simulators: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
