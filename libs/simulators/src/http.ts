import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '#lgsp/observability';
import { FaultInjector, parseFaultConfig, SimInputError, type FaultDecision } from './faults.js';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body; `undefined` when the body is empty. */
  body: unknown;
}

export interface SimResponse {
  status: number;
  /** Serialised as JSON unless `text` is set. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface CallCounts {
  total: number;
  byOperation: Record<string, number>;
  /** Per dossier code, per operation: calls that named that dossier. */
  byDossier: Record<string, Record<string, number>>;
  /** Calls the fault injector rejected, per reason. */
  rejected: Record<string, number>;
  /** Calls (other than control routes) marked as an operator's replay by `x-lgsp-replay`, per replay id. */
  replayed: { total: number; byReplay: Record<string, number> };
}

/** The header a hub puts on the calls of a replay, with the replay's id. */
const REPLAY_HEADER = 'x-lgsp-replay';

export interface Started {
  url: string;
  port: number;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;

const json = (status: number, body: unknown, headers?: Record<string, string>): SimResponse =>
  headers ? { status, body, headers } : { status, body };

export { json };

/**
 * A tiny JSON-over-HTTP server with the control routes every simulator shares:
 * `PUT|GET /_sim/faults`, `GET /_sim/state`, `GET /_sim/calls`, `POST /_sim/reset`.
 * A subclass answers its own routes in {@link handle} and calls {@link guard} once it knows the
 * operation, which counts the call and applies the faults.
 */
export abstract class Simulator {
  readonly faults: FaultInjector;
  protected readonly now: () => number;
  private server: Server | undefined;
  private counts: CallCounts = emptyCounts();

  protected constructor(
    /** Name used in logs and in `main.ts` output. */
    readonly name: string,
    clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.now = () => clock.now();
    this.faults = new FaultInjector(clock);
  }

  /** Starts listening on 127.0.0.1 (`port` 0 picks a free one). */
  async start(port = 0, host = '127.0.0.1'): Promise<Started> {
    // A client that went away mid-answer is not the simulator's failure: drop its socket.
    const server = createServer((req, res) => {
      this.dispatch(req, res).catch(() => res.destroy());
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    return { url: `http://${host}:${address.port}`, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The whole in-memory state, as `GET /_sim/state` returns it. */
  abstract state(): unknown;

  /** Clears the state (`POST /_sim/reset` also clears the call counts and the faults). */
  protected abstract clear(): void;

  /** A body in the system's own error style. */
  protected abstract errorBody(status: number, message: string): unknown;

  protected abstract handle(req: SimRequest): Promise<SimResponse>;

  /** Simulator-specific control routes under `/_sim/`; `undefined` when not one of them. */
  protected handleControl(_req: SimRequest): Promise<SimResponse | undefined> | SimResponse | undefined {
    return undefined;
  }

  reset(): void {
    this.clear();
    this.counts = emptyCounts();
    this.faults.reset();
  }

  calls(): CallCounts {
    return this.counts;
  }

  protected error(status: number, message: string): SimResponse {
    return json(status, this.errorBody(status, message));
  }

  /**
   * Counts the call and decides its faults, waiting out the latency. Returns the fault's response
   * when the call is rejected (outage, rate limit, 5xx), else the decision for the handler
   * (dropped write, corruption, NFD).
   */
  protected async guard(
    operation: string,
    dossiers: readonly string[] = [],
  ): Promise<{ reject: SimResponse } | { decision: FaultDecision }> {
    const c = this.counts;
    c.total += 1;
    c.byOperation[operation] = (c.byOperation[operation] ?? 0) + 1;
    for (const code of dossiers) {
      const perOp = (c.byDossier[code] ??= {});
      perOp[operation] = (perOp[operation] ?? 0) + 1;
    }
    const decision = this.faults.decide(operation);
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    const reject = decision.reject;
    if (!reject) return { decision };
    c.rejected[reject.reason] = (c.rejected[reject.reason] ?? 0) + 1;
    const headers: Record<string, string> = {};
    if (reject.retryAfterS !== undefined) headers['retry-after'] = String(reject.retryAfterS);
    if (reject.status === 502) {
      return {
        reject: {
          status: 502,
          headers: { ...headers, 'content-type': 'text/html' },
          text: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>',
        },
      };
    }
    const message =
      reject.reason === 'outage'
        ? 'Hệ thống đang bảo trì, vui lòng thử lại sau'
        : reject.reason === 'rate-limit'
          ? 'Vượt quá số lượng yêu cầu cho phép'
          : 'Lỗi hệ thống';
    return { reject: { status: reject.status, headers, body: this.errorBody(reject.status, message) } };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let response: SimResponse;
    try {
      const request = await readRequest(req);
      this.countReplay(request);
      response =
        (await this.control(request)) ??
        (await this.handleControlSafe(request)) ??
        (await this.handle(request));
    } catch (e) {
      response =
        e instanceof SimInputError
          ? this.error(400, e.message)
          : this.error(500, e instanceof Error ? e.message : String(e));
    }
    const headers: Record<string, string> = { ...response.headers };
    let payload = '';
    if (response.text !== undefined) {
      payload = response.text;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (response.body !== undefined) {
      payload = JSON.stringify(response.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(response.status, headers);
    res.end(payload);
  }

  private countReplay(req: SimRequest): void {
    const header = req.headers[REPLAY_HEADER];
    const id = Array.isArray(header) ? header[0] : header;
    if (id === undefined || req.path.startsWith('/_sim/')) return;
    const replayed = this.counts.replayed;
    replayed.total += 1;
    replayed.byReplay[id] = (replayed.byReplay[id] ?? 0) + 1;
  }

  private async handleControlSafe(req: SimRequest): Promise<SimResponse | undefined> {
    if (!req.path.startsWith('/_sim/')) return undefined;
    return (await this.handleControl(req)) ?? this.error(404, `no control route ${req.method} ${req.path}`);
  }

  private control(req: SimRequest): SimResponse | undefined {
    const route = `${req.method} ${req.path}`;
    switch (route) {
      case 'PUT /_sim/faults':
        this.faults.configure(parseFaultConfig(req.body ?? {}, this.now()));
        return json(200, this.faults.current);
      case 'GET /_sim/faults':
        return json(200, this.faults.current);
      case 'GET /_sim/state':
        return json(200, this.state());
      case 'GET /_sim/calls':
        return json(200, this.counts);
      case 'POST /_sim/reset':
        this.reset();
        return json(200, { ok: true });
      default:
        return undefined;
    }
  }
}

function emptyCounts(): CallCounts {
  return { total: 0, byOperation: {}, byDossier: {}, rejected: {}, replayed: { total: 0, byReplay: {} } };
}

async function readRequest(req: IncomingMessage): Promise<SimRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new SimInputError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  const url = new URL(req.url ?? '/', 'http://sim');
  const raw = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  if (raw.trim() !== '') {
    try {
      body = JSON.parse(raw);
    } catch {
      throw new SimInputError('body is not valid JSON');
    }
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
