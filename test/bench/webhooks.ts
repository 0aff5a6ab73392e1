/**
 * Webhook delivery figures for `npm run bench` (issue 15: "fan-out to 100 local receivers against raw
 * HTTP POSTs of the same bodies at the same concurrency, in the same run: ≥ 0.7×; POST-to-receiver
 * p99 under 100 ms at 500 events/s with 10 endpoints, on an idle machine").
 *
 * Three processes: the hub (`dist/apps/hub/src/main.js`, started as the other parts start it, with
 * `LGSP_WEBHOOKS_ALLOW_INSECURE=true` and a config file raising `webhooks.maxRatePerSecond`, every
 * webhook at that rate so that no throttle is measured), the receivers (this file forked with
 * `--receivers`: `RECEIVERS` node:http servers on 127.0.0.1, one port each, reading each body and
 * answering 204) and this process, which ingests, runs the baseline and reads the receivers' clocks.
 *
 * - Fan-out: one webhook per receiver (no filter), the hub's default `webhooks.concurrency` of 16
 *   dossiers in flight per endpoint and its sockets per origin. Each round ingests
 *   `BENCH_WEBHOOK_EVENTS` (default 1,000) events of as many dossiers, in batches of 100, so that
 *   order per dossier never holds a delivery back; the hub is timed from the first delivery any
 *   receiver gets to the last of events × receivers. The baseline POSTs the same bodies with the same
 *   headers (those the first receiver got from the hub, signatures included) to the same receivers
 *   from a node:http client with keep-alive, 16 requests in flight per receiver (an agent of 16
 *   sockets per origin, as the hub's), timed the same way at the receivers. Rounds alternate who goes
 *   first, after an untimed warm-up of both.
 * - Replay: a fresh hub with one webhook, to the first receiver; `BENCH_WEBHOOK_REPLAY_EVENTS`
 *   (default 10,000) events ingested and delivered live, then a replay of the whole log to the webhook
 *   through the operator API (at its highest rate, 10,000/s), timed from the request to its last
 *   delivery; its ceiling is the same requests POSTed raw to that receiver, 16 in flight, paced to the
 *   replay's rate (see `replayToWebhook`). Beside it, where Linux tells it (`processCpuMicros`), the CPU
 *   time per delivery of the hub replaying, of this process POSTing raw, and of the receivers.
 * - Latency: a fresh hub with `LATENCY_ENDPOINTS` webhooks, an open-loop load of 500 single-event
 *   ingest POSTs per second (dossiers of 5 events, 250 dossiers open at a time, so a dossier's events
 *   are 0.5 s apart), 2 s of warm-up then `BENCH_WEBHOOK_LATENCY_SECONDS` (default 10) timed. A
 *   delivery's latency runs from the time its ingest POST was due (the schedule, so that a client
 *   falling behind is counted, not hidden) to the receiver reading its body; the ingest POSTs' own
 *   latency (due → 201) of the same run is the baseline. Both processes read one clock
 *   (`performance.timeOrigin + performance.now()`).
 *
 * Run alone: `node dist/test/bench/webhooks.js`; `BENCH_CPU_PROF=<dir>` writes a CPU profile of
 * each hub process there.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statusChanged, submitted } from '../support/events.js';
import { createCommuneClient, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import {
  baselineLine,
  benchLine,
  notMeasuredLine,
  processCpuMicros,
  REPLAY_GOAL,
  runIfMain,
  type BenchTable,
} from './bench-common.js';

const RECEIVERS = 100;
const LATENCY_ENDPOINTS = 10;
/** The hub's default `webhooks.concurrency` (and sockets per origin), used by the baseline too. */
const CONCURRENCY = 16;
/** Every webhook's `ratePerSecond` and the hub's `webhooks.maxRatePerSecond`: no throttle. */
const RATE = 100_000;
const EVENTS = Math.max(100, Number(process.env.BENCH_WEBHOOK_EVENTS ?? 1000));
const ROUNDS = 2;
/**
 * Events in the log the webhook replay sends again (`BENCH_WEBHOOK_REPLAY_EVENTS`): enough that the
 * replay's fixed costs (the operator's request, its plan) weigh little against the sending.
 */
const REPLAY_EVENTS = Math.max(1000, Number(process.env.BENCH_WEBHOOK_REPLAY_EVENTS ?? 10_000));
const LATENCY_RATE = 500;
const LATENCY_SECONDS = Math.max(2, Number(process.env.BENCH_WEBHOOK_LATENCY_SECONDS ?? 10));
const LATENCY_WARM_UP_SECONDS = 2;
const OPEN_DOSSIERS = 250;
/** A dossier's lifecycle in the latency run: submitted, then these statuses. */
const STATUSES = [2, 4, 9, 10];

const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// The receivers (a child process)

/** What this process asks the receivers. */
type Command =
  | { cmd: 'listen'; count: number }
  | { cmd: 'arm'; expected: number; mode: 'count' | 'latency'; capture: boolean }
  | { cmd: 'report' };

/** What the receivers answer. */
type Report =
  | { type: 'ports'; ports: number[] }
  | {
      type: 'done' | 'report';
      received: number;
      first: number;
      last: number;
      /** Deliveries per receiver, in port order. */
      perReceiver: number[];
      /** Connections that carried deliveries to each receiver since armed. */
      connections: number[];
      /** The first receiver's deliveries (headers and body), when asked to capture. */
      captured: CapturedRequest[];
      /** Latency mode: each delivery's event id and arrival time. */
      ids: string[];
      at: number[];
    };

interface CapturedRequest {
  headers: Record<string, string>;
  body: string;
}

const CAPTURED_HEADERS = [
  'content-type',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
];

/** The receivers' side: servers answering 204, counting what arrives while armed. */
function receivers(): void {
  let armed: Extract<Command, { cmd: 'arm' }> | undefined;
  let received = 0;
  let first = 0;
  let last = 0;
  let perReceiver: number[] = [];
  let connections: number[] = [];
  let generation = 0;
  const used = new WeakMap<object, number>();
  let captured: CapturedRequest[] = [];
  let ids: string[] = [];
  let at: number[] = [];
  const send = (r: Report): void => void process.send?.(r);
  const report = (type: 'done' | 'report'): Report => ({
    type,
    received,
    first,
    last,
    perReceiver,
    connections,
    captured,
    ids,
    at,
  });

  const handler = (index: number) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const keep = armed !== undefined && (armed.mode === 'latency' || (armed.capture && index === 0));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (keep) chunks.push(c);
    });
    req.on('end', () => {
      const t = now();
      res.writeHead(204).end();
      if (armed === undefined) return;
      received += 1;
      if (first === 0) first = t;
      last = t;
      perReceiver[index] = (perReceiver[index] ?? 0) + 1;
      if (used.get(req.socket) !== generation) {
        used.set(req.socket, generation);
        connections[index] = (connections[index] ?? 0) + 1;
      }
      if (keep) {
        const body = Buffer.concat(chunks).toString('utf8');
        if (armed.mode === 'latency') {
          ids.push(String((JSON.parse(body) as { id: unknown }).id));
          at.push(t);
        } else {
          const headers: Record<string, string> = {};
          for (const h of CAPTURED_HEADERS) {
            const v = req.headers[h];
            if (typeof v === 'string') headers[h] = v;
          }
          captured.push({ headers, body });
        }
      }
      if (received === armed.expected) send(report('done'));
    });
  };

  process.on('message', (msg: Command) => {
    if (msg.cmd === 'listen') {
      void (async () => {
        const ports: number[] = [];
        for (let i = 0; i < msg.count; i++) {
          const server = http.createServer(handler(i));
          server.keepAliveTimeout = 60_000;
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          ports.push((server.address() as AddressInfo).port);
        }
        send({ type: 'ports', ports });
      })();
    } else if (msg.cmd === 'arm') {
      armed = msg;
      generation += 1;
      connections = [];
      received = 0;
      first = 0;
      last = 0;
      perReceiver = [];
      captured = [];
      ids = [];
      at = [];
    } else {
      send(report('report'));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** The receivers' process as this one drives it. */
class Receivers {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: number[],
  ) {}

  /** The receivers' process id (for its CPU time). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(count: number): Promise<Receivers> {
    const child = fork(fileURLToPath(import.meta.url), ['--receivers'], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (m: Report) => (m.type === 'ports' ? resolve(m.ports) : undefined));
      child.send({ cmd: 'listen', count } satisfies Command);
    });
    return new Receivers(child, ports);
  }

  /** Arms the receivers for `expected` deliveries; the promise resolves once they arrived or at the timeout. */
  arm(
    expected: number,
    mode: 'count' | 'latency',
    capture = false,
    timeoutMs = 180_000,
  ): Promise<Extract<Report, { type: 'done' | 'report' }>> {
    const result = new Promise<Extract<Report, { type: 'done' | 'report' }>>((resolve) => {
      const timer = setTimeout(() => this.child.send({ cmd: 'report' } satisfies Command), timeoutMs);
      const onMessage = (m: Report) => {
        if (m.type === 'ports') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(m);
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ cmd: 'arm', expected, mode, capture } satisfies Command);
    return result;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// The hub

/** A hub allowing http targets on loopback, with webhooks allowed to go at `RATE`. */
async function startHub(): Promise<HubProcess> {
  const dir = tempDir('lgsp-bench-webhooks-');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ webhooks: { maxRatePerSecond: RATE } }));
  const profileDir = process.env.BENCH_CPU_PROF;
  return startHubProcess({
    env: { LGSP_CONFIG: config, LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' },
    ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
  });
}

/** Creates one webhook per receiver port; their ids, in the order of `ports`. */
async function createWebhooks(hub: HubProcess, ports: readonly number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const port of ports) {
    const res = await fetch(`${hub.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `http://127.0.0.1:${port}/hook`,
        description: `bench receiver ${port}`,
        ratePerSecond: RATE,
      }),
    });
    if (res.status !== 201) throw new Error(`POST /v1/webhooks answered ${res.status}: ${await res.text()}`);
    ids.push(((await res.json()) as { webhook: { id: string } }).webhook.id);
  }
  return ids;
}

/** Ingests `count` submissions of new dossiers in batches of 100. */
async function ingestBatches(hub: HubProcess, token: string, count: number): Promise<void> {
  const run = randomUUID().slice(0, 8);
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, k) =>
      submitted(`BENCH-${run}-${i + k}`),
    );
    const res = await fetch(`${hub.url}/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/cloudevents-batch+json',
      },
      body: JSON.stringify(batch),
    });
    if (!res.ok) throw new Error(`batch ingest answered ${res.status}: ${await res.text()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fan-out

interface Timed {
  deliveries: number;
  seconds: number;
  connections: number;
}

function timed(r: Extract<Report, { type: 'done' | 'report' }>, expected: number, who: string): Timed {
  if (r.received !== expected)
    throw new Error(`${who}: the receivers got ${r.received} of ${expected} deliveries in time`);
  const short = r.perReceiver.findIndex((n) => n !== r.received / r.perReceiver.length);
  if (short >= 0) throw new Error(`${who}: receiver ${short} got ${r.perReceiver[short]} deliveries`);
  return {
    deliveries: r.received,
    seconds: (r.last - r.first) / 1000,
    connections: Math.max(0, ...r.connections.map((c) => c ?? 0)),
  };
}

/** The hub delivers `count` new events to every receiver; captures the first receiver's requests. */
async function hubRound(
  hub: HubProcess,
  token: string,
  receivers: Receivers,
  count: number,
): Promise<{ timed: Timed; captured: CapturedRequest[] }> {
  const expected = count * receivers.ports.length;
  const done = receivers.arm(expected, 'count', true);
  await ingestBatches(hub, token, count);
  const r = await done;
  return { timed: timed(r, expected, 'hub'), captured: r.captured };
}

const baselineAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(port: number, request: CapturedRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(request.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/hook',
        method: 'POST',
        agent: baselineAgent,
        headers: { ...request.headers, 'content-length': String(payload.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Raw POSTs of `requests` to every receiver (or to `ports`), `CONCURRENCY` in flight per receiver. */
async function baselineRound(
  receivers: Receivers,
  requests: readonly CapturedRequest[],
  ports: readonly number[] = receivers.ports,
  pace?: Pace,
): Promise<Timed> {
  const expected = requests.length * ports.length;
  const done = receivers.arm(expected, 'count');
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    ports.map(async (port) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < requests.length) {
            const i = next++;
            if (pace !== undefined) {
              // The replay's token bucket: a burst, then one request every 1/rate s.
              const due = started + ((i - pace.burst) * 1000) / pace.ratePerSecond;
              const wait = due - performance.now();
              if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            }
            const status = await post(port, requests[i]!);
            if (status < 200 || status >= 300) failed += 1;
          }
        }),
      );
    }),
  );
  if (failed > 0) throw new Error(`baseline: ${failed} POSTs not answered 2xx`);
  return timed(await done, expected, 'baseline');
}

/** The replay's rate: the most the operator API takes. */
const REPLAY_RATE = 10_000;

/** A rate the raw POSTs keep to: the replay's own (its token bucket's burst is a tenth of its rate). */
interface Pace {
  ratePerSecond: number;
  burst: number;
}

const REPLAY_PACE: Pace = { ratePerSecond: REPLAY_RATE, burst: Math.ceil(REPLAY_RATE / 10) };

/** A replay to one webhook against its endpoint's ceiling, or why there is none. */
export type WebhookReplayFigures =
  | {
      /** Deliveries per second from the replay's start to its last delivery at the receiver. */
      replay: number;
      /**
       * The same requests POSTed raw to the same receiver, `CONCURRENCY` in flight, at most at the
       * replay's rate (`REPLAY_RATE`, after the same burst): what the replay could reach at best.
       */
      ceiling: number;
      /** Whether the replay's rate, not the receiver, bounded the ceiling. */
      rateBound: boolean;
      ratio: number;
      events: number;
      /** CPU time per delivery of each process, where the system tells it (see {@link ReplayCpu}). */
      cpu?: ReplayCpu;
    }
  | { notMeasured: string };

/**
 * CPU time per delivery, in µs, user and system, every thread of the process (`processCpuMicros`):
 * what bounds each side when both run a core flat out.
 */
export interface ReplayCpu {
  /** The hub, from the replay's request to its last delivery. */
  hubPerDelivery: number;
  /** This process while it POSTs the same requests raw (it does nothing else meanwhile). */
  rawClientPerRequest: number;
  /** The receivers' process during the replay, and during the raw POSTs. */
  receiverPerReplayed: number;
  receiverPerRaw: number;
}

/**
 * A replay of the whole log (`events` events, every one delivered already) to the first receiver's
 * webhook through `POST /v1/admin/replays`, timed from the request to the last delivery at the
 * receiver, whose requests are captured; then the same requests POSTed raw to the same receiver,
 * `CONCURRENCY` in flight (the webhook's own concurrency), paced to the replay's rate, timed first →
 * last delivery.
 */
async function replayToWebhook(
  hub: HubProcess,
  receivers: Receivers,
  webhookId: string,
  events: number,
): Promise<WebhookReplayFigures> {
  try {
    const done = receivers.arm(events, 'count', true);
    const hubCpu = processCpuMicros(hub.child.pid);
    const receiverCpu = processCpuMicros(receivers.pid);
    const started = now();
    const res = await fetch(`${hub.url}/v1/admin/replays`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        target: `webhook:${webhookId}`,
        scope: {},
        confirm: true,
        ratePerSecond: REPLAY_RATE,
      }),
    });
    if (res.status !== 201)
      throw new Error(`POST /v1/admin/replays answered ${res.status}: ${await res.text()}`);
    const r = await done;
    if (r.received !== events)
      throw new Error(`the receiver got ${r.received} of ${events} replayed deliveries`);
    const replay = events / ((r.last - started) / 1000);
    const hubCpuAfter = processCpuMicros(hub.child.pid);
    const receiverCpuBetween = processCpuMicros(receivers.pid);
    const clientCpu = process.cpuUsage();
    const raw = await baselineRound(receivers, r.captured, receivers.ports.slice(0, 1), REPLAY_PACE);
    const clientCpuUsed = process.cpuUsage(clientCpu);
    const receiverCpuAfter = processCpuMicros(receivers.pid);
    const ceiling = raw.deliveries / raw.seconds;
    // Within 5% of the paced rate: the pace, not the receiver, set the ceiling.
    const rateBound = ceiling >= 0.95 * REPLAY_RATE;
    const perDelivery = (from?: number, to?: number) =>
      from === undefined || to === undefined ? undefined : (to - from) / events;
    const hubPerDelivery = perDelivery(hubCpu, hubCpuAfter);
    const receiverPerReplayed = perDelivery(receiverCpu, receiverCpuBetween);
    const receiverPerRaw = perDelivery(receiverCpuBetween, receiverCpuAfter);
    const cpu =
      hubPerDelivery === undefined || receiverPerReplayed === undefined || receiverPerRaw === undefined
        ? undefined
        : {
            hubPerDelivery,
            rawClientPerRequest: (clientCpuUsed.user + clientCpuUsed.system) / events,
            receiverPerReplayed,
            receiverPerRaw,
          };
    return { replay, ceiling, rateBound, ratio: replay / ceiling, events, ...(cpu ? { cpu } : {}) };
  } catch (err) {
    return { notMeasured: err instanceof Error ? err.message : String(err) };
  }
}

export interface WebhookFanOutFigures {
  /** Deliveries per second, raw POSTs. */
  baseline: number;
  /** Deliveries per second, the hub. */
  hub: number;
  /** hub / baseline (goal ≥ 0.7). */
  ratio: number;
  deliveries: number;
  /** Most connections a receiver saw in one round: the hub's, the baseline's. */
  hubConnections: number;
  baselineConnections: number;
}

async function fanOut(receivers: Receivers): Promise<WebhookFanOutFigures> {
  const hub = await startHub();
  try {
    await createWebhooks(hub, receivers.ports);
    // Far above the default client limit: the benchmark measures the delivery, not the limiter.
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    // Warm-up of both sides, discarded; the baseline sends the bodies and headers the hub sent.
    const warm = await hubRound(hub, token, receivers, 200);
    await baselineRound(receivers, warm.captured);
    const hubSide = { deliveries: 0, seconds: 0, connections: 0 };
    const baseSide = { deliveries: 0, seconds: 0, connections: 0 };
    let requests: CapturedRequest[] = [];
    const add = (side: typeof hubSide, t: Timed) => {
      side.deliveries += t.deliveries;
      side.seconds += t.seconds;
      side.connections = Math.max(side.connections, t.connections);
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        const h = await hubRound(hub, token, receivers, EVENTS);
        add(hubSide, h.timed);
        requests = h.captured;
        add(baseSide, await baselineRound(receivers, requests));
      } else {
        add(baseSide, await baselineRound(receivers, requests));
        add(hubSide, (await hubRound(hub, token, receivers, EVENTS)).timed);
      }
    }
    const hubRate = hubSide.deliveries / hubSide.seconds;
    const baseRate = baseSide.deliveries / baseSide.seconds;
    return {
      baseline: baseRate,
      hub: hubRate,
      ratio: hubRate / baseRate,
      deliveries: hubSide.deliveries,
      hubConnections: hubSide.connections,
      baselineConnections: baseSide.connections,
    };
  } finally {
    await hub.discard();
  }
}

/**
 * A fresh hub with one webhook, to the first receiver; `REPLAY_EVENTS` events ingested and delivered
 * live, then the whole log replayed to the webhook (see {@link replayToWebhook}).
 */
async function webhookReplay(receivers: Receivers): Promise<WebhookReplayFigures> {
  const hub = await startHub();
  try {
    const [webhookId] = await createWebhooks(hub, receivers.ports.slice(0, 1));
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    const live = receivers.arm(REPLAY_EVENTS, 'count');
    await ingestBatches(hub, token, REPLAY_EVENTS);
    const delivered = await live;
    if (delivered.received !== REPLAY_EVENTS)
      return { notMeasured: `the receiver got ${delivered.received} of ${REPLAY_EVENTS} live deliveries` };
    return await replayToWebhook(hub, receivers, webhookId!, REPLAY_EVENTS);
  } catch (err) {
    return { notMeasured: err instanceof Error ? err.message : String(err) };
  } finally {
    await hub.discard();
  }
}

// ---------------------------------------------------------------------------------------------
// Latency

export interface WebhookLatencyFigures {
  /** Ingest POST due → receiver, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Ingest POST due → 201, ms (the same run). */
  ingestP50: number;
  ingestP99: number;
  deliveries: number;
  /** Deliveries that had not arrived 30 s after the last POST. */
  missing: number;
  /** Ingest POSTs not answered 201. */
  ingestErrors: number;
  /** Ingest POSTs per second actually sent over the timed window. */
  rate: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The body of the `i`th event of the load: dossiers of 5 events, `OPEN_DOSSIERS` open at a time. */
function loadEvent(run: string, i: number): { id: string; body: string } {
  const lifecycle = 1 + STATUSES.length;
  const slot = i % OPEN_DOSSIERS;
  const generation = Math.floor(i / (OPEN_DOSSIERS * lifecycle));
  const step = Math.floor(i / OPEN_DOSSIERS) % lifecycle;
  const code = `BENCH-${run}-${generation}-${slot}`;
  const id = `${run}-${i}`;
  const event = step === 0 ? submitted(code, { id }) : statusChanged(code, STATUSES[step - 1]!, { id });
  return { id, body: JSON.stringify(event) };
}

async function latency(receivers: Receivers): Promise<WebhookLatencyFigures> {
  const hub = await startHub();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const ports = receivers.ports.slice(0, LATENCY_ENDPOINTS);
    await createWebhooks(hub, ports);
    const token = await createCommuneClient(hub, 'bench', '21040', ['--rate-limit', '1000000']);
    const url = new URL(`${hub.url}/v1/events`);
    const run = randomUUID().slice(0, 8);
    const total = LATENCY_RATE * (LATENCY_WARM_UP_SECONDS + LATENCY_SECONDS);
    const warm = LATENCY_RATE * LATENCY_WARM_UP_SECONDS;
    const due = new Map<string, number>();
    const ingest: number[] = [];
    let ingestErrors = 0;
    let answered = 0;
    // The receivers report at the latest 30 s after the last POST was due.
    const done = receivers.arm(
      total * ports.length,
      'latency',
      false,
      (total / LATENCY_RATE) * 1000 + 30_000,
    );

    const interval = 1000 / LATENCY_RATE;
    const start = now() + 50;
    let sent = 0;
    let lastSentAt = 0;
    let allAnswered: () => void = () => undefined;
    const answeredAll = new Promise<void>((resolve) => (allAnswered = resolve));
    const send = (i: number): void => {
      const at = start + i * interval;
      const { id, body } = loadEvent(run, i);
      if (i >= warm) due.set(id, at);
      const payload = Buffer.from(body);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/cloudevents+json',
            'content-length': String(payload.length),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 201) ingestErrors += 1;
            else if (i >= warm) ingest.push(now() - at);
            if (++answered === total) allAnswered();
          });
        },
      );
      req.on('error', () => {
        ingestErrors += 1;
        if (++answered === total) allAnswered();
      });
      req.end(payload);
    };
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const t = now();
        while (sent < total && start + sent * interval <= t) {
          if (sent === warm) lastSentAt = t;
          send(sent++);
        }
        if (sent < total) setTimeout(tick, 1);
        else resolve();
      };
      setTimeout(tick, 50);
    });
    const timedSeconds = (now() - lastSentAt) / 1000;
    await answeredAll;
    const r = await done;
    const latencies: number[] = [];
    for (let k = 0; k < r.ids.length; k++) {
      const sentAt = due.get(r.ids[k]!);
      if (sentAt !== undefined) latencies.push(r.at[k]! - sentAt);
    }
    latencies.sort((a, b) => a - b);
    ingest.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? NaN,
      ingestP50: percentile(ingest, 0.5),
      ingestP99: percentile(ingest, 0.99),
      deliveries: latencies.length,
      missing: due.size * ports.length - latencies.length,
      ingestErrors,
      rate: (total - warm) / timedSeconds,
    };
  } finally {
    agent.destroy();
    await hub.discard();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(1)} ms`;

/** What the webhooks part measures. */
export interface WebhooksFigures {
  webhookFanOut: WebhookFanOutFigures;
  webhookLatency: WebhookLatencyFigures;
  /** A replay of the log to one webhook, against its endpoint's ceiling. */
  webhookReplay: WebhookReplayFigures;
}

/** Measures fan-out, the replay and latency, prints them and returns them. */
export async function webhooksBench(): Promise<WebhooksFigures> {
  const receivers = await Receivers.start(RECEIVERS);
  try {
    const f = await fanOut(receivers);
    const replay = await webhookReplay(receivers);
    console.log(
      `\nwebhook fan-out — ${RECEIVERS} receivers (node:http, 204, one child process), the hub a process of its own; ` +
        `${ROUNDS} rounds of ${fmt(EVENTS)} events × ${RECEIVERS}, each side timed first → last delivery at the receivers`,
    );
    console.log(
      `${'raw POSTs, same bodies and headers, 16 in flight per receiver'.padEnd(64)} ${`${fmt(f.baseline)} deliveries/s`.padEnd(24)} baseline (${f.baselineConnections} connections per receiver)`,
    );
    console.log(
      `${'hub, 100 webhooks, webhooks.concurrency 16'.padEnd(64)} ${`${fmt(f.hub)} deliveries/s`.padEnd(24)} ${f.ratio.toFixed(2)}× baseline (goal ≥ 0.7; ${f.hubConnections} connections per receiver)`,
    );
    console.log(
      'notMeasured' in replay
        ? `replay to one webhook: not measured: ${replay.notMeasured}`
        : `${`replay of ${fmt(replay.events)} events to one webhook (fresh hub), raw POSTs to it ${fmt(replay.ceiling)}/s`.padEnd(64)} ` +
            `${`${fmt(replay.replay)} deliveries/s`.padEnd(24)} ${replay.ratio.toFixed(2)}× the ceiling (goal ≥ ${REPLAY_GOAL})` +
            (replay.rateBound ? `; the ceiling is the replay's own rate, ${fmt(REPLAY_RATE)}/s` : ''),
    );
    if (!('notMeasured' in replay) && replay.cpu !== undefined) {
      const c = replay.cpu;
      console.log(
        `${'  CPU per delivery: the hub replaying, the raw client POSTing'.padEnd(64)} ${`${c.hubPerDelivery.toFixed(0)} µs`.padEnd(24)} ` +
          `raw client ${c.rawClientPerRequest.toFixed(0)} µs; the receivers ${c.receiverPerReplayed.toFixed(0)} µs / ${c.receiverPerRaw.toFixed(0)} µs`,
      );
    }
    const l = await latency(receivers);
    console.log(
      `\nwebhook latency — ${LATENCY_ENDPOINTS} webhooks, open loop of ${LATENCY_RATE} single-event POSTs/s ` +
        `(${fmt(l.rate)}/s sent), ${LATENCY_SECONDS} s timed after ${LATENCY_WARM_UP_SECONDS} s of warm-up`,
    );
    console.log(
      `${'ingest POST due → receiver'.padEnd(40)} p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, max ${ms(l.max)} ` +
        `(${fmt(l.deliveries)} deliveries, ${l.missing} missing; goal p99 < 100 ms)`,
    );
    console.log(
      `${'ingest POST due → 201 (the same run)'.padEnd(40)} p50 ${ms(l.ingestP50)}, p99 ${ms(l.ingestP99)} (${l.ingestErrors} not 201)`,
    );
    return { webhookFanOut: f, webhookLatency: l, webhookReplay: replay };
  } finally {
    baselineAgent.destroy();
    await receivers.stop();
  }
}

/** Fan-out against raw POSTs (goal ≥ 0.7×); delivery latency against ingest's own latency, same run. */
export function webhooksTables(f: WebhooksFigures): BenchTable[] {
  const { webhookFanOut: fan, webhookLatency: l, webhookReplay: replay } = f;
  const ceiling = `raw POSTs to the same receiver, ${CONCURRENCY} in flight, at most ${REPLAY_RATE.toLocaleString('en-US')}/s (the target's ceiling)`;
  return [
    {
      benchmark: 'webhooks',
      lines: [
        baselineLine(
          `raw POSTs, ${RECEIVERS} receivers × ${CONCURRENCY} in flight`,
          fan.baseline,
          'deliveries/s',
        ),
        benchLine(
          `hub, ${RECEIVERS} webhooks, webhooks.concurrency ${CONCURRENCY}`,
          fan.hub,
          'deliveries/s',
          { label: 'raw POSTs', figure: fan.baseline },
          { ratio: { min: 0.7 } },
        ),
        benchLine(
          `ingest POST → receiver, ${LATENCY_RATE} events/s, p99`,
          l.p99,
          'ms',
          { label: 'ingest POST → 201 p99, same run', figure: l.ingestP99 },
          { text: 'p99 < 100 ms', met: l.p99 < 100 && l.missing === 0 },
          `${l.missing} missing`,
        ),
        'notMeasured' in replay
          ? notMeasuredLine('replay to a webhook endpoint', ceiling, `≥ ${REPLAY_GOAL}×`, replay.notMeasured)
          : benchLine(
              `replay to a webhook endpoint, ${replay.events.toLocaleString('en-US')} events`,
              replay.replay,
              'deliveries/s',
              { label: ceiling, figure: replay.ceiling },
              { ratio: { min: REPLAY_GOAL } },
              replay.rateBound ? "the replay's rate bounds the ceiling" : undefined,
            ),
        ...('notMeasured' in replay || replay.cpu === undefined
          ? []
          : [
              benchLine(
                'CPU per replayed delivery, the hub (all threads)',
                replay.cpu.hubPerDelivery,
                'µs',
                { label: 'the raw client, CPU per request', figure: replay.cpu.rawClientPerRequest },
                {},
                `the receivers: ${replay.cpu.receiverPerReplayed.toFixed(0)} µs a replayed delivery, ${replay.cpu.receiverPerRaw.toFixed(0)} µs a raw one`,
              ),
            ]),
      ],
    },
  ];
}

if (process.argv[2] === '--receivers') receivers();
else runIfMain(import.meta.url, webhooksBench, webhooksTables);
