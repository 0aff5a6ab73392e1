import { createLogger, resolveLogFormat, startTracing } from '#lgsp/observability';
import { ConfigError, loadConfig, runsAllRoles } from '#lgsp/hub-config';
import { startupSummary } from './startup-summary.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** `npm start`: the hub on the embedded default, configured by LGSP_CONFIG and LGSP_* variables. */
async function main(): Promise<void> {
  if (NODE_MAJOR < 24) {
    process.stderr.write(
      `lgsp-hub: needs Node 24 (it uses node:sqlite); this is Node ${process.versions.node}. ` +
        'Run it with `npm start`, which uses the Node 24 the project installs, or `nvm use` (.nvmrc).\n',
    );
    process.exit(1);
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`lgsp-hub: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const format = resolveLogFormat(config.log.format, process.stdout.isTTY === true);
  const logger = createLogger({ level: config.log.level, format });
  const { tracing: t } = config;
  // Before the hub's modules load: the instrumentations patch them (pg) as they are imported.
  const tracing = await startTracing({
    mode: !t.loadApi ? 'absent' : t.exporter === 'none' ? 'off' : 'on',
    serviceName: t.serviceName,
    sampler: t.sampler,
    samplerRatio: t.samplerRatio,
    batch: t.batch,
  });
  if (tracing.mode === 'on')
    logger.info({ serviceName: t.serviceName }, 'tracing on: spans exported over OTLP/HTTP');
  // Loaded after the version check: the store imports node:sqlite, which older Node lacks.
  const { startHub } = await import('./server.js');
  const hub = await startHub(config, logger);
  // For a person at a terminal; a log collector has the same facts in the JSON lines above.
  if (format === 'pretty') {
    logger.info(
      startupSummary({
        url: hub.url,
        metricsUrl: hub.metricsUrl,
        dataDir: config.dataDir,
        store: config.store === 'sqlite' ? 'sqlite' : 'postgres',
        admin: hub.runtime.adminCredential,
        connectors: [...hub.runtime.connectors.byTarget.keys()],
        simulators: config.simulators.embedded,
        ...(runsAllRoles(config.roles) ? {} : { roles: config.roles }),
        cwd: process.cwd(),
      }),
    );
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    hub
      .close()
      // The last spans get 2 s to reach the collector: an unreachable one never holds up the exit.
      .then(() =>
        Promise.race([
          tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'trace export failed at shutdown')),
          new Promise<void>((resolve) => setTimeout(resolve, 2000).unref()),
        ]),
      )
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(
    `lgsp-hub: failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
