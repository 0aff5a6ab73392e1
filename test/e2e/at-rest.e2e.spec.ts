import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PERSONAL_FIELDS } from '#lgsp/privacy';
import { COMMUNE, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { findPostgresBinaries } from '../support/postgres-binaries.js';
import { dropSchema, pgClient, POSTGRES_URL, schemaName } from '../support/postgres.js';
import { sendJson } from '../support/sim-http.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 16 acceptance: "a copy of the store's files without the key table contains no name or citizen
 * ID in clear". A hub with its four connectors and the simulators takes a few hundred lifecycles (births
 * registered with the civil registry, fees paid on the payment platform), a webhook receives them (its
 * receiver quoting the applicant in its answers), reconciliations find records altered behind the hub's
 * back and a replay sends them again, and some follow-up work stays pending; one dossier in four is a
 * dossier.submitted.v2 with a co-applicant known by a passport only. Then every name, citizen ID and
 * document number the log carries (read through the API, in clear) is searched for in the raw bytes of
 * every file of the data folder (live with its WAL, a copy checkpointed, and after the stop), in the
 * hub's output and, on PostgreSQL, in a dump of its schema without the key tables. With privacy off the same search finds
 * them, in the events and in each copy (pending work, mismatches, webhook answers): the test can fail.
 */

const LIFECYCLES = Number(process.env.LGSP_E2E_AT_REST_LIFECYCLES ?? 300);
/** The key tables: a copy of the store "without the key table" leaves these out. */
const KEY_TABLES = ['privacy_subject_keys', 'privacy_secrets'];

const control = (url: string, path: string, body: unknown, method = 'PUT') =>
  sendJson(url, method, path, body);

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ'];
const MIDDLE = ['Thị', 'Văn', 'Hữu', 'Minh', 'Ngọc', 'Thanh', 'Quốc', 'Gia', 'Đức', 'Thu', 'Bảo'];
const GIVEN = ['Anh', 'Bích', 'Cường', 'Dũng', 'Giang', 'Hà', 'Hiếu', 'Khoa', 'Lan', 'Mai', 'Nam', 'Oanh'];
const SUFFIX = [
  'Tâm',
  'Tú',
  'Vy',
  'Yến',
  'Xuân',
  'Sơn',
  'Quỳnh',
  'Phúc',
  'Nhi',
  'Lộc',
  'Kiên',
  'Hằng',
  'Duy',
];

/** A realistic, distinct full name per `n` (four syllables). */
const nameOf = (n: number): string =>
  [FAMILY, MIDDLE, GIVEN, SUFFIX].map((list, k) => list[Math.floor(n / 12 ** k) % list.length]!).join(' ');
/** A 12-digit citizen ID per `n` (province 051, century/sex 1, year 90). */
const idOf = (run: number, n: number): string => `0511${90 + (run % 10)}${String(n).padStart(6, '0')}`;

interface Scenario {
  hub: HubProcess;
  sims: SimulatorsProcess;
  receiver: WebhookReceiver;
  /** Every name and citizen ID of the log, as the API answers it (clear text). */
  personal: string[];
  /** The receiver's answers in the webhook's attempts log, as the API shows them. */
  answers: string[];
  /** The mismatches the reconciliations found, as the API shows them. */
  mismatches: { dossier: string; field: string; expected: unknown; actual: unknown }[];
}

/** Every string of `v`, recursively. */
function stringsOf(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') out.add(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) stringsOf(x, out);
}

/**
 * The names and IDs of an event's personal fields ({@link PERSONAL_FIELDS}) into `personal`, every other
 * string of its data into `other`.
 */
function personalValues(type: string, data: unknown, personal: Set<string>, other: Set<string>): void {
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const spec of PERSONAL_FIELDS[type] ?? []) {
    // `[]` in a path: every item of the list (the persons of dossier.submitted.v2).
    let holders: unknown[] = [copy];
    for (const key of spec.at)
      holders = holders.flatMap((h) =>
        key === '[]' ? (Array.isArray(h) ? h : []) : [(h as Record<string, unknown> | undefined)?.[key]],
      );
    for (const holder of holders) {
      if (typeof holder !== 'object' || holder === null) continue;
      const fields = holder as Record<string, unknown>;
      for (const field of spec.fields) {
        const v = fields[field];
        if (['fullName', 'idNumber', 'phone', 'email'].includes(field) && typeof v === 'string')
          personal.add(v);
        // A v2 person's identity documents: each number (citizen ID, legacy ID, passport).
        if (field === 'documents' && Array.isArray(v))
          for (const doc of v as { number?: unknown }[])
            if (typeof doc.number === 'string') personal.add(doc.number);
        delete fields[field];
      }
    }
  }
  stringsOf(copy, other);
}

async function api<T>(hub: HubProcess, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${hub.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${hub.adminToken}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every name and ID of the whole log, read through the API (less any that also occurs as other text). */
async function personalOfLog(hub: HubProcess): Promise<string[]> {
  const personal = new Set<string>();
  const other = new Set<string>();
  let after = 0;
  for (;;) {
    const page = await api<{ events: { event: { type: string; data: unknown } }[]; next: number }>(
      hub,
      `/v1/events?after=${after}&limit=1000`,
    );
    if (page.events.length === 0) break;
    for (const e of page.events) personalValues(e.event.type, e.event.data, personal, other);
    after = page.next;
  }
  return [...personal].filter((p) => !other.has(p) && p !== '[erased]');
}

/** The values of `personal` found in `bytes` (UTF-8). */
function foundIn(bytes: Buffer, personal: readonly string[]): string[] {
  return personal.filter((p) => bytes.includes(Buffer.from(p, 'utf8')));
}

/** Each file of `dir` with the personal values found in its raw bytes (files without any left out). */
function scanFolder(dir: string, personal: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const found = foundIn(readFileSync(file), personal);
    if (found.length > 0) out[name] = found;
  }
  return out;
}

/** A copy of the SQLite files of `dir` with their WAL folded in (what a backup of the folder restores). */
function checkpointedCopy(dir: string): string {
  const copy = tempDir('lgsp-at-rest-copy-');
  folders.push(copy);
  for (const name of readdirSync(dir)) {
    if (/\.db(-wal|-shm)?$/.test(name)) copyFileSync(join(dir, name), join(copy, name));
  }
  for (const name of readdirSync(copy).filter((n) => n.endsWith('.db'))) {
    const db = new DatabaseSync(join(copy, name));
    try {
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }
  return copy;
}

let runs = 0;
/** The folders this file made (data folders and copies), removed once it is done. */
const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/**
 * Plays the scenario against a hub with every connector on: `lifecycles` dossiers (every third a birth
 * registration, every second with a fee), a webhook, births and fees left pending, reconciliations of
 * tampered records, a replay from one, and a replay to the webhook.
 */
async function play(env: Record<string, string>, lifecycles: number): Promise<Scenario> {
  const run = ++runs;
  const sims = await startSimulators();
  await control(sims.urls['civil-registry'], '/_sim/config', {
    seed: 16,
    outcomes: { done: 8, supplement: 1, rejected: 1 },
    processingPolls: { min: 1, max: 2 },
  });
  await control(sims.urls.payments, '/_sim/config', {
    seed: 16,
    outcomes: { success: 9, failed: 1, pending: 0 },
    pendingPolls: { min: 0, max: 1 },
    resolveAfterMs: { min: 50, max: 300 },
  });
  const dataDir = tempDir('lgsp-at-rest-');
  folders.push(dataDir);
  const config = connectorsConfig(dataDir, sims.urls, {
    webhooks: { retryDelaysSeconds: [0.2, 0.4], jitter: 0, pollMs: 100 },
  });
  const hub = await startHubProcess({
    dataDir,
    env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all', LGSP_WEBHOOKS_ALLOW_INSECURE: 'true', ...env },
  });
  await control(sims.urls.payments, '/_sim/config', { callbackUrl: `${hub.url}/v1/callbacks/payments` });
  const cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };

  // A receiver that refuses one delivery in ten, quoting the applicant (the hub keeps the first KiB of
  // each answer in the attempts log), and quotes the name in its acknowledgements too.
  let n = 0;
  const receiver = await WebhookReceiver.start((d) => {
    n++;
    const applicant = (d.event.data.applicant as { fullName?: string; idNumber?: string } | undefined) ?? {};
    return n % 10 === 0 && d.event.lgspreplay === undefined
      ? { status: 422, body: `refused: ${applicant.fullName ?? ''} ${applicant.idNumber ?? ''}` }
      : { status: 200, body: JSON.stringify({ received: d.event.id, name: applicant.fullName }) };
  });
  const { webhook } = await api<{ webhook: { id: string } }>(hub, '/v1/webhooks', {
    method: 'POST',
    body: JSON.stringify({ url: receiver.url, filter: {} }),
  });

  const token = await createCommuneClient(hub, 'at-rest', COMMUNE);
  const base = randomInt(100_000, 800_000);
  /** A dossier submitted by a person, with a birth registration when `birth`. */
  const dossier = (k: number, birth: boolean): { code: string; events: Record<string, unknown>[] } => {
    // The systems take dossier codes of the national form only.
    const code = `000.00.51.H56-251123-${String(base + k)}`;
    const sub = submitted(code);
    const applicant = { fullName: nameOf(3 * k), idNumber: idOf(run, 3 * k) };
    sub.data = {
      ...(sub.data as Record<string, unknown>),
      applicant,
      ...(birth
        ? {
            civilRegistration: {
              registrationType: 'birth',
              person: { fullName: nameOf(3 * k + 1), dateOfBirth: '2025-11-20', sex: 'female' },
              mother: applicant,
              father: { fullName: nameOf(3 * k + 2), idNumber: idOf(run, 3 * k + 2) },
            },
          }
        : {}),
    };
    // One dossier in four comes from a commune that moved to dossier.submitted.v2: the applicant and a
    // co-applicant known by a passport only, each sealed under their own key.
    if (k % 4 === 1) {
      const { applicant: _v1, ...rest } = sub.data as Record<string, unknown>;
      sub.type = 'vn.gov.lgsp.dossier.submitted.v2';
      sub.data = {
        ...rest,
        persons: [
          {
            role: 'applicant',
            fullName: applicant.fullName,
            documents: [{ kind: 'citizen-id', number: applicant.idNumber }],
          },
          {
            role: 'co-applicant',
            fullName: nameOf(3 * lifecycles + k),
            documents: [{ kind: 'passport', number: `B${run}${String(base + k).padStart(7, '0')}` }],
          },
        ],
      };
    }
    return { code, events: [sub, statusChanged(code, 2), statusChanged(code, 4)] };
  };
  let batch: Record<string, unknown>[] = [];
  const codes: string[] = [];
  for (let k = 0; k < lifecycles; k++) {
    const d = dossier(k, k % 3 === 0);
    codes.push(d.code);
    batch.push(...d.events, ...(k % 2 === 0 ? [statusChanged(d.code, 6)] : []));
    if (batch.length >= 200 || k === lifecycles - 1) {
      expect((await post(hub.url, token, batch, 'application/cloudevents-batch+json')).status).toBe(201);
      batch = [];
    }
  }
  const countOf = async (type: string) =>
    (await api<{ events: unknown[] }>(hub, `/v1/events?after=0&limit=1000&type=${type}`)).events.length;
  const settled = async () => {
    const subs = await api<{ subscriptions: { lagEvents: number }[] }>(hub, '/v1/admin/subscriptions');
    return subs.subscriptions.every((s) => s.lagEvents === 0);
  };
  // Registrations decided and fees paid come back from the systems as events.
  let seen = {};
  await eventually(async () => {
    const registered = await countOf('vn.gov.lgsp.civil-status.registered.v1');
    const paid = await countOf('vn.gov.lgsp.payment.completed.v1');
    const lag = await settled();
    seen = { registered, paid, lag };
    return registered > 0 && paid > 0 && lag ? true : undefined;
  }, 180_000).catch((err: unknown) => {
    throw new Error(`${String(err)}: ${JSON.stringify(seen)}`);
  });

  // Births and fees whose results do not come: their follow-up work stays pending, holding the persons.
  await control(sims.urls['civil-registry'], '/_sim/config', {
    processingPolls: { min: 10_000, max: 10_000 },
  });
  await control(sims.urls.payments, '/_sim/config', {
    outcomes: { success: 1, failed: 0, pending: 0 },
    pendingPolls: { min: 10_000, max: 10_000 },
    resolveAfterMs: null,
  });
  const held: Record<string, unknown>[] = [];
  for (let k = lifecycles; k < lifecycles + 4; k++) {
    const d = dossier(k, true);
    held.push(...d.events, statusChanged(d.code, 6));
  }
  expect((await post(hub.url, token, held, 'application/cloudevents-batch+json')).status).toBe(201);
  await eventually(async () => ((await settled()) ? true : undefined), 60_000);

  // Records altered behind the hub's back: the reconciliations find names that differ.
  const tampered = codes.slice(1, 4);
  for (const c of tampered)
    await control(
      sims.urls['national-portal'],
      '/_sim/tamper',
      { dossier: c, set: { ChuHoSo: 'Hồ Văn Tráo' } },
      'POST',
    );
  await control(
    sims.urls['one-stop-shop'],
    '/_sim/tamper',
    { dossier: tampered[0], set: { ho_ten_nguoi_nop: 'Hồ Văn Tráo' } },
    'POST',
  );
  const runIds: string[] = [];
  for (const target of ['portal', 'one-stop-shop', 'civil-registry', 'payments']) {
    const r = await runCli(['reconcile', 'run', '--target', target, '--json'], cli);
    expect({ target, outcome: [0, 5].includes(r.code ?? -1) ? 'ran' : r.stderr }).toEqual({
      target,
      outcome: 'ran',
    });
    runIds.push((JSON.parse(r.stdout) as { run: { id: string } }).run.id);
  }
  const mismatches: Scenario['mismatches'] = [];
  for (const id of runIds) {
    const shown = await api<{ mismatches: Scenario['mismatches'] }>(
      hub,
      `/v1/admin/reconciliations/${id}?limit=1000`,
    );
    mismatches.push(...shown.mismatches);
  }
  const replays = [
    ['replay', 'run', '--target', 'portal', '--from-reconciliation', runIds[0]!, '--yes', '--json'],
    [
      'replay',
      'run',
      '--target',
      `webhook:${webhook.id}`,
      '--dossiers',
      tampered.join(','),
      '--yes',
      '--json',
    ],
  ];
  for (const args of replays) {
    const r = await runCli(args, cli);
    expect({ args, code: r.code, err: r.code === 0 ? '' : r.stderr }).toEqual({ args, code: 0, err: '' });
  }
  await eventually(async () => ((await settled()) ? true : undefined), 60_000);
  const attempts = await api<{ attempts: { response?: string }[] }>(
    hub,
    `/v1/webhooks/${webhook.id}/attempts?limit=1000`,
  );
  const answers = attempts.attempts.flatMap((a) => (a.response === undefined ? [] : [a.response]));
  return { hub, sims, receiver, personal: await personalOfLog(hub), answers, mismatches };
}

async function closeScenario(s: Scenario | undefined): Promise<void> {
  if (s === undefined) return;
  await s.hub.stop();
  const exited = new Promise((r) => s.sims.child.once('exit', r));
  if (s.sims.child.exitCode === null && s.sims.child.kill('SIGTERM')) await exited;
  await s.receiver.down();
}

/** Personal values found, per table, in the clear columns of the copies beside the log (SQLite). */
function clearCopies(dbFile: string, personal: readonly string[]): Record<string, number> {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  const out: Record<string, number> = {};
  try {
    for (const [table, column] of [
      ['events', 'data'],
      ['connector_pending', 'payload'],
      ['reconciliation_mismatches', 'expected'],
      ['webhook_attempts', 'response'],
    ] as const) {
      const rows = db.prepare(`SELECT ${column} AS v FROM ${table}`).all() as { v: unknown }[];
      out[table] = rows.filter((r) => foundIn(Buffer.from(String(r.v)), personal).length > 0).length;
    }
  } finally {
    db.close();
  }
  return out;
}

describe('personal data at rest, on the embedded SQLite store', () => {
  let s: Scenario | undefined;
  afterEach(async () => {
    await closeScenario(s);
    s = undefined;
  });

  it('holds no name or citizen ID in clear in any file of the data folder, nor in the log output', async () => {
    s = await play({}, LIFECYCLES);
    expect(s.personal.length).toBeGreaterThan(LIFECYCLES);
    // The API answers clear text while the keys exist: the mismatches name persons.
    expect(s.mismatches.filter((m) => s!.personal.includes(String(m.expected))).length).toBeGreaterThan(0);
    expect(s.answers.filter((a) => foundIn(Buffer.from(a), s!.personal).length > 0).length).toBeGreaterThan(
      0,
    );

    const live = scanFolder(s.hub.dataDir, s.personal);
    const checkpointed = scanFolder(checkpointedCopy(s.hub.dataDir), s.personal);
    expect(await s.hub.stop()).toBe(0);
    const stopped = scanFolder(s.hub.dataDir, s.personal);
    const log = foundIn(Buffer.from(s.hub.output(), 'utf8'), s.personal);
    expect({ live, checkpointed, stopped, log }).toEqual({
      live: {},
      checkpointed: {},
      stopped: {},
      log: [],
    });
  }, 600_000);

  it('finds them with privacy off, in the events and in every copy: the search can fail', async () => {
    s = await play({ LGSP_PRIVACY_ENABLED: 'false' }, 60);
    const copy = checkpointedCopy(s.hub.dataDir);
    const found = scanFolder(copy, s.personal);
    expect(found['events.db']?.length ?? 0).toBeGreaterThan(60);
    const tables = clearCopies(join(copy, 'events.db'), s.personal);
    expect(tables).toEqual({
      events: expect.any(Number),
      connector_pending: expect.any(Number),
      reconciliation_mismatches: expect.any(Number),
      webhook_attempts: expect.any(Number),
    });
    for (const [table, rows] of Object.entries(tables))
      expect({ table, some: rows > 0 }).toEqual({ table, some: true });
  }, 600_000);
});

/** `pg_dump` of one schema without the key tables, or (no pg_dump here) COPY of each of its tables. */
async function dumpSchema(schema: string): Promise<Buffer> {
  let pgDump: string | undefined;
  try {
    const candidate = join(findPostgresBinaries().binDir, 'pg_dump');
    if (existsSync(candidate)) pgDump = candidate;
  } catch {
    // no server binaries: the COPY dump below
  }
  if (pgDump !== undefined) {
    const excluded = KEY_TABLES.flatMap((t) => ['--exclude-table', `${schema}.${t}`]);
    return execFileSync(pgDump, ['--dbname', POSTGRES_URL, '--schema', schema, ...excluded], {
      maxBuffer: 1 << 30,
    });
  }
  const client = await pgClient();
  try {
    const tables = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    const parts: string[] = [];
    for (const { table_name: table } of tables.rows) {
      if (KEY_TABLES.includes(table)) continue;
      const rows = await client.query(
        `SELECT * FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`,
      );
      parts.push(JSON.stringify(rows.rows));
    }
    return Buffer.from(parts.join('\n'), 'utf8');
  } finally {
    await client.end();
  }
}

describe('personal data at rest, on PostgreSQL', () => {
  let s: Scenario | undefined;
  const schema = schemaName('atrest');
  afterAll(async () => {
    await closeScenario(s);
    await dropSchema(schema);
  });

  it('holds no name or citizen ID in clear in a dump of the schema without the key tables, nor in the log output', async () => {
    s = await play({ LGSP_STORE: POSTGRES_URL, LGSP_POSTGRES_SCHEMA: schema }, Math.ceil(LIFECYCLES / 2));
    expect(s.personal.length).toBeGreaterThan(LIFECYCLES / 2);
    const dump = await dumpSchema(schema);
    // The dump holds the store: the events and copies, sealed, and no key table.
    expect(dump.includes('lgsp:pd2:')).toBe(true);
    for (const table of ['events', 'connector_pending', 'reconciliation_mismatches', 'webhook_attempts'])
      expect({ table, dumped: dump.includes(`${schema}.${table}`) }).toEqual({ table, dumped: true });
    for (const table of KEY_TABLES)
      expect({ table, dumped: dump.includes(`${schema}.${table} `) }).toEqual({ table, dumped: false });
    const log = foundIn(Buffer.from(s.hub.output(), 'utf8'), s.personal);
    expect({ dump: foundIn(dump, s.personal), log }).toEqual({ dump: [], log: [] });
  }, 600_000);
});
