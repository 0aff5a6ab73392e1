import { ApiError, Api } from './api.js';
import { audit, auditVerify } from './audit.js';
import { checkpointsExport } from './checkpoints.js';
import { schemasList, schemasShow } from './schemas.js';
import { intFlag, parseFlags, positiveFlag, query, type Ctx, type Flags, type Out } from './command.js';
import { erasureApprove, erasureList, erasureRefuse, erasureRequest, erasureShow } from './erasure.js';
import { eventsTail } from './events-tail.js';
import { CliConfigError, loadHubConfig } from './hub-config.js';
import { EXIT, UsageError, isInterruption, type CliIo } from './io.js';
import { privacyAffected } from './privacy.js';
import { reconcileList, reconcileResolve, reconcileRun, reconcileShow } from './reconcile.js';
import { isYes, replayCommand, replayList, replayPlan, replayRun, replayStatus } from './replay.js';
import { table } from './table.js';
import { verify } from './verify.js';
import {
  webhooksAttempts,
  webhooksCreate,
  webhooksDelete,
  webhooksDisable,
  webhooksEnable,
  webhooksList,
  webhooksRedeliver,
  webhooksRotateSecret,
  webhooksShow,
  webhooksUpdate,
} from './webhooks.js';

const USAGE = `lgsp — the lgsp-hub operator CLI

Environment: LGSP_URL (default http://127.0.0.1:3000), LGSP_TOKEN (an admin or operator token).
Every command prints a table; --json prints the hub's JSON for scripts.

Commands:
  lgsp clients create --name NAME (--communes C1,C2 | --province P) [--role ROLE] [--sources S1,S2]
                      [--rate-limit N [--burst B]]
  lgsp clients update NAME|ID --rate-limit N|default [--burst B]
      N requests per second for this client, B at once (default: N, at least 1); \`default\` goes back
      to the hub's rateLimit.client. Admin only; applies from the client's next request.
  lgsp clients rotate-token NAME|ID
      Prints the client's new token, shown this once; the previous one keeps working for
      auth.rotationOverlapSeconds (one day by default). Admin only.
  lgsp clients revoke NAME|ID [--yes]
      Refuses every token of the client from now on; its name stays taken. Confirmation: asked on a
      terminal, else --yes. Admin only.
  lgsp clients list
  lgsp streams read STREAM [--from VERSION] [--limit N]
  lgsp events list [--after POSITION] [--limit N] [--type TYPE] [--province P]
  lgsp events tail [--after POSITION] [--type TYPE] [--province P]
      Follows the log live, one line per event (position, time, type, dossier; JSON lines with
      --json), reconnecting after the last position when the hub goes away; Ctrl-C stops it (exit 0).
  lgsp schemas list
      The event catalogue: every event with its versions (type, who sends it, schema) and what a
      downcast to an older version drops.
  lgsp schemas show TYPE
      One type's version, schema, required and known fields (the JSON Schema itself with --json).
  lgsp dossiers show DOSSIER_CODE
      The dossier's view, then its state at each external system and webhook endpoint you may see
      (last position delivered, when, parked and why).
  lgsp subscriptions
  lgsp parked list [--target TARGET] [--limit N] [--after ID]
  lgsp parked retry TARGET DOSSIER_CODE [--note NOTE]
      Resolves the parking and delivers the dossier to the target again.
  lgsp parked skip TARGET DOSSIER_CODE [--note NOTE] [--through POSITION]
      Drops the dossier's held events for the target (through POSITION, default all held).
  lgsp parked history TARGET DOSSIER_CODE
      TARGET is a connector (portal, …) or webhook:ID.
  lgsp webhooks create URL [--description TEXT] [--types T1,T2] [--provinces P1,P2] [--communes C1,C2]
                       [--event-versions dossier.submitted=2] [--rate N]
      Registers an endpoint for the events of the filter (all the token may see when none is given)
      and prints its signing secret, shown this once. --event-versions: the version of each event
      delivered (default 1; see lgsp schemas list).
  lgsp webhooks list [--limit N] [--after ID]
  lgsp webhooks show ID
  lgsp webhooks update ID [--url URL] [--description TEXT] [--types …] [--provinces …] [--communes …]
                       [--event-versions NAME=V,…] [--rate N]
      A filter flag replaces that part of the filter; an empty one (--provinces '') removes it.
  lgsp webhooks rotate-secret ID
      Prints the new secret; the previous one keeps signing (both signatures sent) for a while.
  lgsp webhooks enable ID | disable ID [--reason TEXT]
  lgsp webhooks attempts ID [--limit N] [--after SEQ] [--position P]
  lgsp webhooks redeliver ID --from POSITION
      Sends every event of the filter from POSITION again, with the same webhook-id as before.
  lgsp webhooks delete ID [--yes]
      Confirmation: asked on a terminal, else --yes.
  lgsp erasure request SUBJECT_ID [--note TEXT]
      Records a data subject's erasure request (Law 91/2025): SUBJECT_ID is a citizen ID (12 or 9
      digits) or dossier:<DOSSIER_CODE>:<role>; prints its deadlines (answer within the working days,
      complete within 20 or 30 days) and the exemptions that apply. The hub keeps only a masked form.
  lgsp erasure list [--limit N] [--after ID]
  lgsp erasure show ID
  lgsp erasure approve ID
      Destroys the subject's keys (its data reads [erased] everywhere) and appends person.erased to
      each of its dossiers; refused while an exempt procedure's dossier holds the subject's data.
  lgsp erasure refuse ID --basis TEXT [--note TEXT]
      Refuses the request, citing its legal basis.
  lgsp reconcile run --target TARGET [SCOPE] [--no-wait] [--json [--limit N]]
      Compares TARGET (portal, one-stop-shop, civil-registry, payments) with the log over SCOPE and,
      unless --no-wait, shows its progress, then the mismatches per category (exit 5 when a replay
      can fix some, 8 when only records no replay can fix are open). --json adds the first N
      mismatches (default 100) and the cursor of the next page.
  lgsp reconcile show ID [--category C] [--limit N] [--after SEQ]
      The run and a page of its findings; long values are shown from their first difference (@N).
  lgsp reconcile capture ID SEQ [--note NOTE]
      Appends the system's record of an unexpected-extra finding to the log, as an event from that
      system (the portal).
  lgsp reconcile acknowledge ID SEQ --note NOTE
      Leaves an unexpected-extra record in the system on purpose; later runs do not count it as open.
  lgsp reconcile list [--limit N] [--after ID]
  lgsp replay plan (--target TARGET | --from-reconciliation ID) [SCOPE] [--types T1,T2] [--limit N]
      What a replay would send (counts, first and last events, estimate, the first N dossiers,
      default 20), what it causes beyond the target, and what it cannot fix (exit 8 then); sends
      nothing. With --from-reconciliation the target is the run's.
  lgsp replay run (--target TARGET | --from-reconciliation ID) [SCOPE] [--types T1,T2]
                  [--yes] [--chunk-size N] [--rate PER_SECOND] [--no-wait]
      Shows the plan, starts the replay and follows it to its end (exit 0 only when completed; 8 when
      it completed and left findings no replay can fix). A replay above the hub's size limit needs
      confirmation: asked on a terminal, else --yes.
  lgsp replay status ID
  lgsp replay list [--limit N] [--after ID]
  lgsp replay pause|resume|cancel ID [--note NOTE]
  lgsp privacy affected --from RFC3339 --to RFC3339 [--province P1,P2] [--commune C1,C2] [--target T]
                       [--json | --csv]
      Who was affected (breach report): every data subject whose personal data passed through the
      scope in [from, to) (at most 366 days), with roles, dossiers, first and last seen, name and ID
      number. T is a connector (portal, one-stop-shop, civil-registry, payments), webhook:ID, kafka
      (the relay) or kafka:CLIENT. Erased subjects are left out and not counted. Admin or operator.
  lgsp audit [--action PREFIX] [--subject S] [--limit N] [--after ID]
  lgsp audit verify
      The hub recomputes the audit log's hash chain (exit 7 when an entry was changed or removed).
  lgsp migrate [--store sqlite|postgres://…] [--schema NAME]
      Creates or upgrades the store's tables without starting the hub. Reads the hub's configuration
      (LGSP_CONFIG, LGSP_STORE, LGSP_POSTGRES_SCHEMA, LGSP_DATA_DIR); --store and --schema override it.
  lgsp checkpoints export [--json] [--out FILE]
      Every signed checkpoint the hub keeps, with its Ed25519 public key, for anchoring elsewhere.
      --json writes the export document (the public key in PEM; per checkpoint its position, chain
      hash, time, the exact signed message and the signature, both base64) that verify --checkpoints
      reads; --out writes to FILE instead of stdout.
  lgsp verify [--store sqlite|postgres://…] [--schema NAME] [--data-dir DIR] | verify --file EVENTS_DB
              [--checkpoints EXPORT_JSON]
      Recomputes the hash chain of the whole event log from position 1, reading the store directly
      and read-only (the hub may be stopped): the configured store like migrate (--data-dir overrides
      LGSP_DATA_DIR), a PostgreSQL schema (a backup restored into one too), or --file, a copy of an
      events.db anywhere. Prints "chain holds: N events, head hash H", or the first position that is
      modified, missing or out of order (exit 7). Then checks the chain against the signed checkpoints:
      those kept in the store, or with --checkpoints those of a file exported earlier (which also
      catches a log rewritten with its chain recomputed); each signature must verify and the record at
      each checkpoint's position must have its chain hash, else it names the first checkpoint that
      does not match (exit 7).
  SCOPE: [--province P] [--commune C] [--from RFC3339] [--to RFC3339]
         [--dossiers CODE1,CODE2 | --dossiers-file FILE (codes separated by lines, commas or spaces)]

Progress goes to stderr: a bar on a terminal, a plain line every 10 s otherwise.

Exit codes: 0 success; 2 usage error, or a replay, webhook deletion or client revocation needing
confirmation without a terminal or --yes; 3 the hub refused the request (its problem is printed); 4 the
hub (or, for migrate and verify, the store) could not be reached; 5 a reconciliation found mismatches;
6 a run ended failed or cancelled, or the replay, deletion or revocation was not confirmed; 7 verify found the hash chain broken or a checkpoint that does not match, or audit verify found the audit chain broken; 8 the findings
left are ones no replay can fix (unexpected extras: capture or acknowledge them); 78
bad configuration; 130 interrupted while following a run (the run goes on in the hub).`;

/**
 * `--rate-limit N [--burst B]`: N requests per second, B at once (default N, at least 1); with
 * `mayReset`, `--rate-limit default` gives null (the hub's default).
 */
function rateLimitFlags(flags: Flags, mayReset: boolean): { ratePerSecond: number; burst: number } | null {
  if (mayReset && flags['rate-limit'] === 'default') {
    if (flags.burst !== undefined) throw new UsageError('--burst goes with a number of requests per second');
    return null;
  }
  const ratePerSecond = positiveFlag(flags, 'rate-limit');
  if (ratePerSecond === undefined)
    throw new UsageError(`--rate-limit N${mayReset ? '|default' : ''} is needed (N requests per second)`);
  const burst = intFlag(flags, 'burst', 1, 1_000_000) ?? Math.max(1, Math.ceil(ratePerSecond));
  return { ratePerSecond, burst };
}

const describeRateLimit = (limit: { ratePerSecond: number; burst: number }): string =>
  `rate limit ${limit.ratePerSecond}/s, burst ${limit.burst}`;

/** `lgsp migrate`: the hub's own migration code, loaded only for this command. */
async function migrate(
  env: CliIo['env'],
  store: string | undefined,
  schema: string | undefined,
): Promise<{ database: string; component: string; version: number }[]> {
  const config = await loadHubConfig(env, { store, schema });
  const { migrateStorage } = await import('#lgsp/hub-storage');
  const { createLogger } = await import('#lgsp/observability');
  const { pino } = await import('pino');
  // Warnings go to stderr: stdout carries the result (and --json must stay parseable).
  return migrateStorage(config, createLogger({ level: 'warn', destination: pino.destination(2) }));
}

type Client = {
  id: string;
  name: string;
  role: string;
  provinceCode?: string;
  communeCodes: string[];
  sources: string[];
  rateLimit?: { ratePerSecond: number; burst: number };
  createdAt: string;
  tokenIssuedAt?: string;
  revokedAt?: string;
};
/** One entry of a dossier's `sync` (GET /v1/dossiers/{code}). */
type DossierSyncRow = {
  target: string;
  kind: 'connector' | 'webhook';
  lastPosition: number | null;
  lastDeliveredAt: string | null;
  parked: boolean;
  parkedReason?: string;
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

/**
 * Runs one command line and resolves with its exit code (see USAGE); the process wiring is in main.ts.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    return report(e, io);
  }
}

/** The commands that need nothing but the context, by `group action`. */
const COMMANDS: ReadonlyMap<string, (ctx: Ctx) => Promise<number>> = new Map(
  Object.entries({
    verify,
    'events tail': eventsTail,
    'reconcile run': reconcileRun,
    'reconcile show': reconcileShow,
    'reconcile list': reconcileList,
    'reconcile capture': (ctx: Ctx) => reconcileResolve(ctx, 'capture'),
    'reconcile acknowledge': (ctx: Ctx) => reconcileResolve(ctx, 'acknowledge'),
    'replay plan': replayPlan,
    'replay run': replayRun,
    'replay status': replayStatus,
    'replay list': replayList,
    'replay pause': (ctx: Ctx) => replayCommand(ctx, 'pause'),
    'replay resume': (ctx: Ctx) => replayCommand(ctx, 'resume'),
    'replay cancel': (ctx: Ctx) => replayCommand(ctx, 'cancel'),
    audit,
    'audit verify': auditVerify,
    'checkpoints export': checkpointsExport,
    'schemas list': schemasList,
    'schemas show': schemasShow,
    'webhooks create': webhooksCreate,
    'webhooks list': webhooksList,
    'webhooks show': webhooksShow,
    'webhooks update': webhooksUpdate,
    'webhooks rotate-secret': webhooksRotateSecret,
    'webhooks enable': webhooksEnable,
    'webhooks disable': webhooksDisable,
    'webhooks attempts': webhooksAttempts,
    'webhooks redeliver': webhooksRedeliver,
    'webhooks delete': webhooksDelete,
    'privacy affected': privacyAffected,
    'erasure request': erasureRequest,
    'erasure list': erasureList,
    'erasure show': erasureShow,
    'erasure approve': erasureApprove,
    'erasure refuse': erasureRefuse,
  }),
);

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const { values: flags, positionals } = parseFlags(argv);
  const [group, action, arg, arg2] = positionals;
  if (flags.help || !group) {
    io.stdout.write(`${USAGE}\n`);
    if (!group && !flags.help) throw new UsageError('no command given');
    return EXIT.ok;
  }
  const api = new Api(io.env.LGSP_URL ?? 'http://127.0.0.1:3000', io.env.LGSP_TOKEN, io.interrupt);
  const out: Out = {
    json: flags.json,
    print(human, machine) {
      io.stdout.write(`${this.json ? JSON.stringify(machine, null, 2) : human}\n`);
    },
  };
  const ctx: Ctx = { api, io, flags, out, args: positionals.slice(2) };

  switch (`${group} ${action ?? ''}`.trim()) {
    case 'clients create': {
      if (!flags.name) throw new UsageError('clients create needs --name');
      const body = {
        name: flags.name,
        ...(flags.communes ? { communes: flags.communes.split(',').map((c) => c.trim()) } : {}),
        ...(flags.province ? { province: flags.province } : {}),
        ...(flags.role ? { role: flags.role } : {}),
        ...(flags.sources ? { sources: flags.sources.split(',').map((s) => s.trim()) } : {}),
        ...(flags['rate-limit'] !== undefined || flags.burst !== undefined
          ? { rateLimit: rateLimitFlags(flags, false) }
          : {}),
      };
      const c = await api.call<Client & { token: string }>('POST', '/v1/admin/clients', body);
      out.print(
        `created client ${c.name} (${c.id}), role ${c.role}${c.provinceCode ? `, province ${c.provinceCode}` : ''}` +
          `${c.communeCodes.length ? `, communes ${c.communeCodes.join(',')}` : ''}` +
          `${c.sources.length ? `, sources ${c.sources.join(',')}` : ''}` +
          `${c.rateLimit ? `, ${describeRateLimit(c.rateLimit)}` : ''}\n` +
          `token (shown once, store it now): ${c.token}`,
        {
          id: c.id,
          token: c.token,
          name: c.name,
          role: c.role,
          provinceCode: c.provinceCode,
          communeCodes: c.communeCodes,
          sources: c.sources,
          rateLimit: c.rateLimit,
        },
      );
      return EXIT.ok;
    }
    case 'clients update': {
      if (!arg) throw new UsageError('clients update needs the client name or id');
      const c = await api.call<Client>('PATCH', `/v1/admin/clients/${encodeURIComponent(arg)}`, {
        rateLimit: rateLimitFlags(flags, true),
      });
      out.print(
        `updated client ${c.name} (${c.id}): ${c.rateLimit ? describeRateLimit(c.rateLimit) : "the hub's default rate limit"}`,
        c,
      );
      return EXIT.ok;
    }
    case 'clients rotate-token': {
      if (!arg) throw new UsageError('clients rotate-token needs the client name or id');
      const r = await api.call<{ client: Client; token: string; previousTokenExpiresAt: string }>(
        'POST',
        `/v1/admin/clients/${encodeURIComponent(arg)}/rotate-token`,
        {},
      );
      out.print(
        `new token of client ${r.client.name} (${r.client.id}), shown once, store it now: ${r.token}\n` +
          `the previous token keeps working until ${r.previousTokenExpiresAt}`,
        r,
      );
      return EXIT.ok;
    }
    case 'clients revoke': {
      if (!arg) throw new UsageError('clients revoke needs the client name or id');
      if (!flags.yes) {
        if (!io.ask) {
          io.stderr.write(
            `lgsp: revoking client ${arg} needs confirmation and there is no terminal to ask on: run again with --yes\n`,
          );
          return EXIT.usage;
        }
        const answer = await io.ask(`Revoke client ${arg}? Every token of it stops working at once. [y/N] `);
        if (!isYes(answer)) {
          io.stderr.write('lgsp: not confirmed; nothing was revoked\n');
          return EXIT.incomplete;
        }
      }
      const r = await api.call<{ client: Client }>(
        'POST',
        `/v1/admin/clients/${encodeURIComponent(arg)}/revoke`,
        {},
      );
      out.print(`revoked client ${r.client.name} (${r.client.id}) at ${r.client.revokedAt ?? '?'}`, r);
      return EXIT.ok;
    }
    case 'clients list': {
      const { clients } = await api.call<{ clients: Client[] }>('GET', '/v1/admin/clients');
      out.print(
        table(
          [
            'ID',
            'NAME',
            'ROLE',
            'PROVINCE',
            'COMMUNES',
            'SOURCES',
            'RATE LIMIT',
            'CREATED',
            'TOKEN ISSUED',
            'REVOKED',
          ],
          clients.map((c) => [
            c.id,
            c.name,
            c.role,
            c.provinceCode,
            c.communeCodes.join(','),
            c.sources.join(','),
            c.rateLimit ? `${c.rateLimit.ratePerSecond}/s, burst ${c.rateLimit.burst}` : 'default',
            c.createdAt,
            c.tokenIssuedAt ?? c.createdAt,
            c.revokedAt ?? '',
          ]),
        ),
        clients,
      );
      return EXIT.ok;
    }
    case 'streams read': {
      if (!arg)
        throw new UsageError('streams read needs a stream name, e.g. dossier-000.00.15.H12-250701-0001');
      const r = await api.call<{ stream: string; version: number; events: WireEvent[] }>(
        'GET',
        `/v1/streams/${encodeURIComponent(arg)}${query({ from: flags.from, limit: flags.limit })}`,
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
      return EXIT.ok;
    }
    case 'events list': {
      const r = await api.call<{ events: WireEvent[]; next: number; head: number }>(
        'GET',
        `/v1/events${query({ after: flags.after, limit: flags.limit, type: flags.type, province: flags.province })}`,
      );
      out.print(
        table(
          ['POSITION', 'STREAM', 'VERSION', 'TYPE', 'RECORDED'],
          r.events.map((e) => [e.position, e.stream, e.streamVersion, e.event.type, e.recordedAt]),
        ) + `\nnext: --after ${r.next} (head ${r.head})`,
        r,
      );
      return EXIT.ok;
    }
    case 'dossiers show': {
      if (!arg) throw new UsageError('dossiers show needs a dossier code');
      const view = await api.call<Record<string, unknown>>('GET', `/v1/dossiers/${encodeURIComponent(arg)}`);
      const { sync, ...fields } = view as Record<string, unknown> & { sync?: DossierSyncRow[] };
      const fieldTable = table(
        ['FIELD', 'VALUE'],
        Object.entries(fields).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]),
      );
      const syncTable =
        sync === undefined || sync.length === 0
          ? ''
          : `\n\n${table(
              ['SYSTEM', 'KIND', 'LAST POSITION', 'DELIVERED AT', 'PARKED'],
              sync.map((s) => [
                s.target,
                s.kind,
                s.lastPosition ?? '-',
                s.lastDeliveredAt ?? '-',
                s.parked ? `yes: ${s.parkedReason ?? ''}` : 'no',
              ]),
            )}`;
      out.print(`${fieldTable}${syncTable}`, view);
      return EXIT.ok;
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
      return EXIT.ok;
    }
    case 'parked list': {
      const r = await api.call<{ parked: ParkedItem[] }>(
        'GET',
        `/v1/admin/parked${query({ target: flags.target, limit: flags.limit, after: flags.after })}`,
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
      return EXIT.ok;
    }
    case 'parked retry':
    case 'parked skip': {
      if (!arg || !arg2) throw new UsageError(`parked ${action} needs a target and a dossier code`);
      let through: number | undefined;
      if (flags.through !== undefined) {
        if (action !== 'skip') throw new UsageError('--through is for parked skip only');
        through = Number(flags.through);
        if (!Number.isSafeInteger(through) || through < 1)
          throw new UsageError('--through must be a log position (a positive integer)');
      }
      const r = await api.call<{ entry: HistoryEntry; delivery?: string }>(
        'POST',
        `/v1/admin/parked/${encodeURIComponent(arg)}/${encodeURIComponent(arg2)}/${action}`,
        {
          ...(flags.note === undefined ? {} : { note: flags.note }),
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
      return EXIT.ok;
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
      return EXIT.ok;
    }
    case 'migrate': {
      const versions = await migrate(io.env, flags.store, flags.schema);
      out.print(
        table(
          ['DATABASE', 'COMPONENT', 'VERSION'],
          versions.map((v) => [v.database, v.component, v.version]),
        ),
        { versions },
      );
      return EXIT.ok;
    }
    default: {
      const command = COMMANDS.get(`${group} ${action ?? ''}`.trim());
      if (command === undefined) throw new UsageError(`unknown command: ${positionals.join(' ')}`);
      return command(ctx);
    }
  }
}

/** The exit code of a failed command, its message on stderr. */
function report(e: unknown, io: CliIo): number {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    io.stderr.write(`lgsp: ${(e as Error).message}\nRun lgsp --help for usage.\n`);
    return EXIT.usage;
  }
  if (e instanceof CliConfigError) {
    io.stderr.write(`lgsp: ${e.message}\n`);
    return EXIT.config;
  }
  if (e instanceof ApiError) {
    io.stderr.write(`lgsp: ${e.status} ${e.problem?.title ?? ''}: ${e.message}\n`);
    for (const issue of e.problem?.errors ?? [])
      io.stderr.write(`  ${issue.pointer || '/'}: ${issue.message}\n`);
    if (e.status === 401 && !io.env.LGSP_TOKEN) io.stderr.write('  LGSP_TOKEN is not set\n');
    return EXIT.refused;
  }
  if (isInterruption(e, io.interrupt)) {
    io.stderr.write('lgsp: interrupted\n');
    return EXIT.interrupted;
  }
  io.stderr.write(`lgsp: ${(e as Error).message}\n`);
  return EXIT.unreachable;
}
