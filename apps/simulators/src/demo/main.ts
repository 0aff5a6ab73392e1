import { writeFileSync } from 'node:fs';
import { AdminUnits, type Commune } from '#lgsp/contracts';
import { HubClient } from './hub-client.js';
import { USAGE, UsageError, parseOptions, type DemoOptions } from './options.js';
import { PaymentPlatformSandbox } from './payment-sandbox.js';
import { STATUS } from './planner.js';
import { CreatedClients, DemoRunner, GivenClient, RunStats } from './runner.js';

/** The communes the run submits dossiers to: the whole list, or the provinces and communes asked for. */
function selectCommunes(units: AdminUnits, options: DemoOptions): Commune[] {
  for (const p of options.provinces) {
    if (!units.hasProvince(p)) throw new UsageError(`--provinces: ${p} is not a province of ${units.source}`);
  }
  if (options.communes.length > 0) {
    return options.communes.map((code) => {
      const commune = units.commune(code);
      if (commune === undefined)
        throw new UsageError(`--communes: ${code} is not a commune of ${units.source}`);
      if (options.provinces.length > 0 && !options.provinces.includes(commune.provinceCode)) {
        throw new UsageError(`--communes: ${code} is not in --provinces ${options.provinces.join(',')}`);
      }
      return commune;
    });
  }
  const provinces = options.provinces.length > 0 ? options.provinces : units.provinces().map((p) => p.code);
  return provinces.flatMap((p) => units.communesOf(p));
}

function summary(
  stats: RunStats,
  options: DemoOptions,
  units: AdminUnits,
  communes: number,
  clients: number,
) {
  const seconds = stats.elapsedMs() / 1000;
  const byName = (map: Map<string | number, number>) =>
    Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => [String(k), n]));
  return {
    ok: stats.failed === 0 && stats.stalled === 0,
    seed: options.seed,
    url: options.url,
    units: { source: units.source, communesUsed: communes },
    mode: options.mode,
    mix: options.mix,
    lifecycles: {
      started: stats.started,
      completed: stats.completed,
      failed: stats.failed,
      ...(options.connectors ? { stalled: stats.stalled } : {}),
    },
    events: { appended: stats.eventsAppended, duplicates: stats.duplicates },
    elapsedMs: stats.elapsedMs(),
    lifecyclesPerSecond: Number((stats.completed / Math.max(seconds, 0.001)).toFixed(2)),
    eventsPerSecond: Number((stats.eventsAppended / Math.max(seconds, 0.001)).toFixed(2)),
    variations: byName(stats.variations),
    finalStatuses: byName(stats.finalStatuses),
    birthRegistrations: stats.births,
    clientsCreated: clients,
    codesTakenElsewhere: stats.codeConflicts,
    responses: byName(stats.responses),
    errors: stats.errors(),
    retries: stats.retries,
    interrupted: stats.interrupted,
    failures: stats.failures,
    ...(options.connectors
      ? {
          connectors: {
            waitTimeoutMs: options.waitTimeoutMs,
            paymentAttempts: options.paymentAttempts,
            paymentDeadlineMs: options.paymentDeadlineMs,
            // what the payment platform and the civil registry decided, through the hub
            outcomes: byName(stats.outcomes),
            // the first 1000 stalled lifecycles
            stalled: stats.stalledList,
          },
        }
      : {}),
  };
}

function human(s: ReturnType<typeof summary>): string {
  const statusNames: Record<string, string> = {
    [STATUS.rejected]: 'rejected',
    [STATUS.withdrawn]: 'withdrawn',
    [STATUS.stopped]: 'processing stopped',
    [STATUS.returned]: 'result returned',
  };
  const lines = [
    `demo ${s.lifecycles.failed > 0 ? 'FAILED' : s.ok ? 'finished' : 'finished, with stalled lifecycles'}${s.interrupted ? ' (interrupted)' : ''}: ${s.lifecycles.completed} lifecycles, ${s.events.appended} events in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.eventsPerSecond} events/s, ${s.lifecyclesPerSecond} lifecycles/s)`,
    `  seed ${s.seed} (repeat with --seed ${s.seed}), ${s.units.communesUsed} commune(s) of ${s.units.source.length > 60 ? `${s.units.source.slice(0, 60)}…` : s.units.source}`,
    `  variations: ${
      Object.entries(s.variations)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; birth registrations ${s.birthRegistrations}`,
    `  final statuses: ${
      Object.entries(s.finalStatuses)
        .map(([k, n]) => `${k} (${statusNames[k] ?? '?'}) ${n}`)
        .join(', ') || 'none'
    }`,
    `  responses: ${
      Object.entries(s.responses)
        .map(([k, n]) => `${k}×${n}`)
        .join(' ') || 'none'
    }; retries ${s.retries}; duplicates ${s.events.duplicates}; codes taken by another producer ${s.codesTakenElsewhere}`,
  ];
  if (s.connectors !== undefined) {
    lines.push(
      `  external systems: ${
        Object.entries(s.connectors.outcomes)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'no outcome'
      }; stalled ${s.lifecycles.stalled ?? 0} (wait timeout ${s.connectors.waitTimeoutMs / 1000} s; payments abandoned after a deadline of ${s.connectors.paymentDeadlineMs / 1000} s)`,
    );
    for (const x of s.connectors.stalled) {
      lines.push(
        `  stalled: ${x.dossierCode} (lifecycle ${x.index}, ${x.variation}) waiting for ${x.waitingFor}, ${x.reason} after ${(x.waitedMs / 1000).toFixed(1)} s; last seen status ${x.status ?? '-'}, payment ${x.paymentState ?? '-'}`,
      );
    }
  }
  for (const f of s.failures) lines.push(`  failure: ${f}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  let options: DemoOptions;
  let units: AdminUnits;
  let communes: Commune[];
  try {
    options = parseOptions(process.argv.slice(2), process.env);
    if (options.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    units = options.unitsFile === undefined ? AdminUnits.sample() : AdminUnits.load(options.unitsFile);
    communes = selectCommunes(units, options);
    if (communes.length === 0) throw new UsageError('no commune to submit dossiers to');
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof Error && e.message.startsWith('admin units:'))) throw e;
    process.stderr.write(`demo: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }

  const stats = new RunStats();
  const hub = new HubClient(options.url, { maxRetries: options.maxRetries, recorder: stats });
  const clients =
    options.clientToken !== undefined
      ? new GivenClient(options.clientToken)
      : new CreatedClients(hub, options.adminToken ?? '', options.clientRole);
  const runner = new DemoRunner(
    hub,
    clients,
    communes,
    options,
    stats,
    new PaymentPlatformSandbox(options.paymentPlatform),
  );

  const onSignal = (): void => {
    process.stderr.write('[demo] stopping: no new lifecycles, waiting for those in flight\n');
    runner.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress =
    options.progressMs > 0
      ? setInterval(
          () => process.stderr.write(`${runner.stats.progressLine(options.count, options.connectors)}\n`),
          options.progressMs,
        )
      : undefined;

  await runner.run();
  if (progress !== undefined) clearInterval(progress);
  const result = summary(stats, options, units, communes.length, clients.created);
  if (options.dossiersOut !== undefined) {
    writeFileSync(options.dossiersOut, runner.dossiers.map((d) => `${JSON.stringify(d)}\n`).join(''));
  }
  if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${human(result)}\n`);
  if (stats.failed > 0) {
    process.stderr.write(`demo: ${stats.failed} lifecycle(s) failed; first: ${stats.failures[0] ?? '?'}\n`);
    return stats.unavailable ? 4 : 1;
  }
  if (stats.interrupted) return 130;
  if (stats.stalled > 0) {
    process.stderr.write(
      `demo: ${stats.stalled} lifecycle(s) stalled waiting on an external system; first: ${stats.stalledList[0]?.dossierCode ?? '?'}\n`,
    );
    return 3;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(
      `demo: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 1;
  },
);
