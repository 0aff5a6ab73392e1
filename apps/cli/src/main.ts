import { parseArgs } from 'node:util';
import { Api, ApiError } from './api.js';
import { table } from './table.js';

const USAGE = `lgsp — the lgsp-hub operator CLI

Environment: LGSP_URL (default http://127.0.0.1:3000), LGSP_TOKEN (an admin or operator token).

Commands:
  lgsp clients create --name NAME (--communes C1,C2 | --province P) [--role ROLE] [--sources S1,S2] [--json]
  lgsp clients list [--json]
  lgsp streams read STREAM [--from VERSION] [--limit N] [--json]
  lgsp events list [--after POSITION] [--limit N] [--type TYPE] [--province P] [--json]
  lgsp dossiers show DOSSIER_CODE [--json]
  lgsp subscriptions [--json]
  lgsp parked list [--target TARGET] [--limit N] [--after ID] [--json]
  lgsp parked retry TARGET DOSSIER_CODE [--note NOTE] [--json]
      Resolves the parking and delivers the dossier to the target again.
  lgsp parked skip TARGET DOSSIER_CODE [--note NOTE] [--through POSITION] [--json]
      Drops the dossier's held events for the target (through POSITION, default all held).
  lgsp parked history TARGET DOSSIER_CODE [--json]
  lgsp migrate [--store sqlite|postgres://…] [--schema NAME] [--json]
      Creates or upgrades the store's tables without starting the hub. Reads the hub's configuration
      (LGSP_CONFIG, LGSP_STORE, LGSP_POSTGRES_SCHEMA, LGSP_DATA_DIR); --store and --schema override it.

Exit codes: 0 success, 2 usage error, 3 the hub refused the request, 4 the hub (or, for migrate,
the store) could not be reached, 78 bad configuration.`;

class UsageError extends Error {}

/** `lgsp migrate`: the hub's own configuration and migration code, loaded only for this command. */
async function migrate(
  store: string | undefined,
  schema: string | undefined,
): Promise<{ database: string; component: string; version: number }[]> {
  const { ConfigError, loadConfig } = await import('../../hub/src/config/config.js');
  const { migrateStorage } = await import('../../hub/src/runtime.js');
  const { createLogger } = await import('#lgsp/observability');
  const { pino } = await import('pino');
  let config;
  try {
    config = loadConfig({
      ...process.env,
      ...(store === undefined ? {} : { LGSP_STORE: store }),
      ...(schema === undefined ? {} : { LGSP_POSTGRES_SCHEMA: schema }),
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`lgsp: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  // Warnings go to stderr: stdout carries the result (and --json must stay parseable).
  return migrateStorage(config, createLogger({ level: 'warn', destination: pino.destination(2) }));
}

interface Out {
  json: boolean;
  print(human: string, machine: unknown): void;
}

type Client = {
  id: string;
  name: string;
  role: string;
  provinceCode?: string;
  communeCodes: string[];
  sources: string[];
  createdAt: string;
};
type ParkedItem = {
  id: number;
  target: string;
  dossier: string;
  reason: string;
  kind: string;
  attempts: number;
  firstPosition: number;
  lastPosition: number;
  parkedAt: string;
};
type HistoryEntry = {
  action: string;
  at: string;
  by: string;
  note?: string;
  fromPosition: number;
  throughPosition: number;
};
type WireEvent = {
  position: number;
  stream: string;
  streamVersion: number;
  recordedAt: string;
  event: { id: string; source: string; type: string; time?: string };
};

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      communes: { type: 'string' },
      province: { type: 'string' },
      role: { type: 'string' },
      sources: { type: 'string' },
      from: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
      type: { type: 'string' },
      target: { type: 'string' },
      note: { type: 'string' },
      through: { type: 'string' },
      store: { type: 'string' },
      schema: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, action, arg, arg2] = positionals;
  if (values.help || !group) {
    process.stdout.write(`${USAGE}\n`);
    if (!group && !values.help) throw new UsageError('no command given');
    return;
  }
  const api = new Api(process.env.LGSP_URL ?? 'http://127.0.0.1:3000', process.env.LGSP_TOKEN);
  const out: Out = {
    json: values.json ?? false,
    print(human, machine) {
      process.stdout.write(`${this.json ? JSON.stringify(machine, null, 2) : human}\n`);
    },
  };
  const query = (params: Record<string, string | undefined>): string => {
    const q = new URLSearchParams(
      Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
    );
    return q.size > 0 ? `?${q}` : '';
  };

  switch (`${group} ${action ?? ''}`.trim()) {
    case 'clients create': {
      if (!values.name) throw new UsageError('clients create needs --name');
      const body = {
        name: values.name,
        ...(values.communes ? { communes: values.communes.split(',').map((c) => c.trim()) } : {}),
        ...(values.province ? { province: values.province } : {}),
        ...(values.role ? { role: values.role } : {}),
        ...(values.sources ? { sources: values.sources.split(',').map((s) => s.trim()) } : {}),
      };
      const c = await api.call<Client & { token: string }>('POST', '/v1/admin/clients', body);
      out.print(
        `created client ${c.name} (${c.id}), role ${c.role}${c.provinceCode ? `, province ${c.provinceCode}` : ''}` +
          `${c.communeCodes.length ? `, communes ${c.communeCodes.join(',')}` : ''}` +
          `${c.sources.length ? `, sources ${c.sources.join(',')}` : ''}\n` +
          `token (shown once, store it now): ${c.token}`,
        {
          id: c.id,
          token: c.token,
          name: c.name,
          role: c.role,
          provinceCode: c.provinceCode,
          communeCodes: c.communeCodes,
          sources: c.sources,
        },
      );
      return;
    }
    case 'clients list': {
      const { clients } = await api.call<{ clients: Client[] }>('GET', '/v1/admin/clients');
      out.print(
        table(
          ['ID', 'NAME', 'ROLE', 'PROVINCE', 'COMMUNES', 'SOURCES', 'CREATED'],
          clients.map((c) => [
            c.id,
            c.name,
            c.role,
            c.provinceCode,
            c.communeCodes.join(','),
            c.sources.join(','),
            c.createdAt,
          ]),
        ),
        clients,
      );
      return;
    }
    case 'streams read': {
      if (!arg)
        throw new UsageError('streams read needs a stream name, e.g. dossier-000.00.15.H12-250701-0001');
      const r = await api.call<{ stream: string; version: number; events: WireEvent[] }>(
        'GET',
        `/v1/streams/${encodeURIComponent(arg)}${query({ from: values.from, limit: values.limit })}`,
      );
      out.print(
        `${r.stream} (version ${r.version})\n` +
          table(
            ['VERSION', 'POSITION', 'TYPE', 'TIME', 'SOURCE', 'ID'],
            r.events.map((e) => [
              e.streamVersion,
              e.position,
              e.event.type,
              e.event.time,
              e.event.source,
              e.event.id,
            ]),
          ),
        r,
      );
      return;
    }
    case 'events list': {
      const r = await api.call<{ events: WireEvent[]; next: number; head: number }>(
        'GET',
        `/v1/events${query({ after: values.after, limit: values.limit, type: values.type, province: values.province })}`,
      );
      out.print(
        table(
          ['POSITION', 'STREAM', 'VERSION', 'TYPE', 'RECORDED'],
          r.events.map((e) => [e.position, e.stream, e.streamVersion, e.event.type, e.recordedAt]),
        ) + `\nnext: --after ${r.next} (head ${r.head})`,
        r,
      );
      return;
    }
    case 'dossiers show': {
      if (!arg) throw new UsageError('dossiers show needs a dossier code');
      const view = await api.call<Record<string, unknown>>('GET', `/v1/dossiers/${encodeURIComponent(arg)}`);
      out.print(
        table(
          ['FIELD', 'VALUE'],
          Object.entries(view).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]),
        ),
        view,
      );
      return;
    }
    case 'subscriptions': {
      const r = await api.call<{
        head: number;
        subscriptions: {
          name: string;
          checkpoint: number;
          lagEvents: number;
          lagSeconds: number;
          state: string;
          leaseHolder?: string;
        }[];
      }>('GET', '/v1/admin/subscriptions');
      out.print(
        `head ${r.head}\n` +
          table(
            ['SUBSCRIBER', 'STATE', 'CHECKPOINT', 'LAG EVENTS', 'LAG SECONDS', 'LEASE HOLDER'],
            r.subscriptions.map((s) => [
              s.name,
              s.state,
              s.checkpoint,
              s.lagEvents,
              s.lagSeconds.toFixed(1),
              s.leaseHolder ?? '-',
            ]),
          ),
        r,
      );
      return;
    }
    case 'parked list': {
      const r = await api.call<{ parked: ParkedItem[] }>(
        'GET',
        `/v1/admin/parked${query({ target: values.target, limit: values.limit, after: values.after })}`,
      );
      out.print(
        table(
          ['ID', 'TARGET', 'DOSSIER', 'KIND', 'ATTEMPTS', 'POSITIONS', 'PARKED', 'REASON'],
          r.parked.map((p) => [
            p.id,
            p.target,
            p.dossier,
            p.kind,
            p.attempts,
            `${p.firstPosition}…${p.lastPosition}`,
            p.parkedAt,
            p.reason,
          ]),
        ),
        r,
      );
      return;
    }
    case 'parked retry':
    case 'parked skip': {
      if (!arg || !arg2) throw new UsageError(`parked ${action} needs a target and a dossier code`);
      let through: number | undefined;
      if (values.through !== undefined) {
        if (action !== 'skip') throw new UsageError('--through is for parked skip only');
        through = Number(values.through);
        if (!Number.isSafeInteger(through) || through < 1)
          throw new UsageError('--through must be a log position (a positive integer)');
      }
      const r = await api.call<{ entry: HistoryEntry; delivery?: string }>(
        'POST',
        `/v1/admin/parked/${encodeURIComponent(arg)}/${encodeURIComponent(arg2)}/${action}`,
        {
          ...(values.note === undefined ? {} : { note: values.note }),
          ...(through === undefined ? {} : { throughPosition: through }),
        },
      );
      const { entry } = r;
      const delivery =
        r.delivery === undefined ? '' : r.delivery === 'parked' ? '; parked again' : `; ${r.delivery}`;
      out.print(
        `${entry.action} ${arg2} for ${arg}: positions ${entry.fromPosition}…${entry.throughPosition}, by ${entry.by}${delivery}`,
        r,
      );
      return;
    }
    case 'parked history': {
      if (!arg || !arg2) throw new UsageError('parked history needs a target and a dossier code');
      const r = await api.call<{ history: HistoryEntry[] }>(
        'GET',
        `/v1/admin/parked/${encodeURIComponent(arg)}/${encodeURIComponent(arg2)}/history`,
      );
      out.print(
        table(
          ['AT', 'ACTION', 'BY', 'POSITIONS', 'NOTE'],
          r.history.map((h) => [h.at, h.action, h.by, `${h.fromPosition}…${h.throughPosition}`, h.note]),
        ),
        r,
      );
      return;
    }
    case 'migrate': {
      const versions = await migrate(values.store, values.schema);
      out.print(
        table(
          ['DATABASE', 'COMPONENT', 'VERSION'],
          versions.map((v) => [v.database, v.component, v.version]),
        ),
        { versions },
      );
      return;
    }
    default:
      throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`lgsp: ${(e as Error).message}\nRun lgsp --help for usage.\n`);
      process.exit(2);
    }
    if (e instanceof ApiError) {
      process.stderr.write(`lgsp: ${e.status} ${e.problem?.title ?? ''}: ${e.message}\n`);
      for (const issue of e.problem?.errors ?? [])
        process.stderr.write(`  ${issue.pointer || '/'}: ${issue.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`lgsp: ${(e as Error).message}\n`);
    process.exit(4);
  },
);
