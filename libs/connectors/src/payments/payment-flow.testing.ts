import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventValidator } from '#lgsp/contracts';
import type { StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import type { Logger } from '#lgsp/observability';
import { PaymentPlatformSimulator, type SentCallback } from '#lgsp/simulators';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import type { Clock } from '../core/clock.js';
import { IngestSink, captureClient, type EventSink } from '../core/event-sink.js';
import { birthSubmission } from '../core/mapping.testing.js';
import { SqlParkingStore } from '../core/parking/sql-parking-store.js';
import { SqlPendingWorkStore } from '../core/pending/sql-pending-work-store.js';
import { PaymentCallbackHandler } from './payment-callback-handler.js';
import { PaymentClient } from './payment-client.js';
import { PaymentConnector } from './payment-connector.js';
import { PAYMENTS_TARGET, paymentRef, type CallbackOutcome } from './payment-mapping.js';
import { PaymentStatusPoller } from './payment-status-poller.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

/**
 * The set-up shared by the payment connector's flow specs (not part of the library's API): one event
 * store, the hub's callback route and a payment platform simulator per spec file, a fresh pending
 * store and callback handler per test, and the helpers that write a dossier's log up to a fee due.
 */
export const SECRET = 'flow-spec-secret';
export const PROVINCE = '51';
export const COMMUNE = '21040';
export const AGENCY = '000.00.51.H56';
export const FEE = 50000;

export let dir: string;
export let store: SqliteEventStore;
export let sink: IngestSink;
export let sim: PaymentPlatformSimulator;
export let simUrl: string;
export let hub: Server;
export let counter = 0;

/** Per test: the hub's pending store, callback handler, whether it answers callbacks, what it logged. */
export let pending: SqlPendingWorkStore;
export let handler: PaymentCallbackHandler;
export let accepting: boolean;
export let outcomes: CallbackOutcome[];
export let logs: { level: string; obj: object; msg: string }[];

export const logger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
  warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'payment-flow-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  sink = new IngestSink(new IngestService(store, new EventValidator()), captureClient('capture.payments'));
  // The hub's callback route, as the lead wires it: handler, then the outcome's HTTP answer.
  hub = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      void (async () => {
        if (!accepting) {
          res.writeHead(503).end();
          return;
        }
        const outcome = await handler.handle(JSON.parse(raw) as unknown);
        outcomes.push(outcome);
        const answer = handler.httpResponse(outcome, JSON.parse(raw) as unknown);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      })();
    });
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  const hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/callbacks/payments`;
  sim = new PaymentPlatformSimulator({
    config: { secret: SECRET, callbackUrl: hubUrl, callbackRetries: 0, callbackRetryDelayMs: 10 },
  });
  ({ url: simUrl } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
  await new Promise((resolve) => hub.close(resolve));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  sim.reset();
  sim.configure({
    outcomes: { success: 1 },
    pendingPolls: { min: 0, max: 0 },
    resolveAfterMs: { min: 5, max: 5 },
  });
  accepting = true;
  outcomes = [];
  logs = [];
  pending = await SqlPendingWorkStore.open(SqliteDatabase.open(':memory:'));
  handler = new PaymentCallbackHandler({ secret: SECRET, sink, pending, events: store, logger });
});

/** A fresh dossier code per test: the simulator's transaction numbers restart at each reset. */
export function newCode(): string {
  counter++;
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0')}`;
}

export const common = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

export async function append(code: string, type: string, data: Record<string, unknown>): Promise<void> {
  await store.append([
    {
      stream: `dossier-${code}`,
      expectedVersion: 'any',
      id: randomUUID(),
      source: `/communes/${COMMUNE}/one-stop-shop`,
      type,
      time: new Date().toISOString(),
      data: { ...common(code), ...data },
      extensions: {},
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
    },
  ]);
}

export const changeStatus = (code: string, status: number, changedAt: string) =>
  append(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
    status,
    changedAt,
    handler: { name: 'Trần Văn Bình' },
  });

/** A dossier with a fee, up to "fee due" (status 6 at 2025-11-24 00:05:09 Vietnam time). */
export async function feeDue(code: string, fee = FEE): Promise<void> {
  await append(
    code,
    'vn.gov.lgsp.dossier.submitted.v1',
    birthSubmission({
      agencyCode: AGENCY,
      receivedAt: '2025-11-23T08:00:00+07:00',
      fees: fee > 0 ? [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: fee }] : [],
    }),
  );
  await changeStatus(code, 4, '2025-11-23T02:00:00Z');
  await changeStatus(code, 6, '2025-11-23T17:05:09Z');
}

export const streamOf = (code: string): Promise<StoredEvent[]> => store.readStream(`dossier-${code}`);
export const paymentEvents = async (code: string) =>
  (await streamOf(code)).filter((e) => e.type.startsWith('vn.gov.lgsp.payment.'));

export function connector(
  options: { clock?: Clock; pending?: SqlPendingWorkStore; pollDelayMs?: number } = {},
) {
  const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
  const c = new PaymentConnector({
    events: store,
    parking,
    breaker: new CircuitBreaker(PAYMENTS_TARGET, { coolDownMs: 200, failureThreshold: 5 }),
    retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
    client: client(),
    pending: options.pending ?? pending,
    pollDelayMs: options.pollDelayMs ?? 1000,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { connector: c, parking };
}

export const client = () =>
  new PaymentClient({ baseUrl: simUrl, partnerCode: 'H51', secret: SECRET, timeoutMs: 2000 });

export function poller(clock?: Clock, pollIntervalMs = 100, to: EventSink = sink) {
  return new PaymentStatusPoller({
    client: client(),
    pending,
    sink: to,
    pollIntervalMs,
    maxPollDelayMs: 1000,
    batch: 10,
    logger,
    ...(clock === undefined ? {} : { clock }),
  });
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The callbacks sent so far, once `n` of them have been answered. */
export async function callbacks(n: number): Promise<SentCallback[]> {
  await waitFor(`${n} callback(s)`, () => {
    const sent = sim.state().callbacks;
    return sent.length >= n && sent.every((c) => c.status !== undefined || c.error !== undefined);
  });
  await sim.settled();
  return sim.state().callbacks;
}

export const ref = (code: string, n = 1) => paymentRef(code, n);

/** From now until the next test, the hub answers the platform's callbacks 503 (they are lost). */
export function refuseCallbacks(): void {
  accepting = false;
}

/**
 * A fee due on a new dossier, opened on the platform by a connector on `clock` while the hub refuses
 * the platform's callbacks (see {@link refuseCallbacks}): only polling can learn its result.
 * @returns the dossier's code
 */
export async function feeOpenedWithoutCallbacks(
  clock: Clock | undefined,
  options: { pollDelayMs?: number } = { pollDelayMs: 0 },
): Promise<string> {
  refuseCallbacks();
  const code = newCode();
  await feeDue(code);
  await connector({ ...(clock === undefined ? {} : { clock }), ...options }).connector.deliver(
    await streamOf(code),
  );
  return code;
}
