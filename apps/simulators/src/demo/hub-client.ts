import type { CloudEvent } from '#lgsp/contracts';

/** An RFC 9457 problem as the hub sends it. */
export interface Problem {
  title?: string;
  detail?: string;
  errors?: { pointer: string; message: string }[];
}

/** What the hub answered to an append. */
export type AppendOutcome =
  | { kind: 'appended'; status: number; duplicates: number }
  /** 409: a stream was not at the expected version; nothing was appended. */
  | { kind: 'conflict'; problem: Problem | undefined }
  | { kind: 'refused'; status: number; problem: Problem | undefined };

/**
 * The part of the hub's dossier view (GET /v1/dossiers/{code}) the demo waits on: the status the
 * external systems' results move the dossier to, the payment state, and the stream version the view
 * has applied, which tells a current view from one that has not yet seen the demo's last event.
 */
export interface DossierSnapshot {
  dossierCode: string;
  status?: number;
  payment: { state: 'none' | 'due' | 'paid' | 'failed'; amountDue: number; amountPaid: number };
  civilStatus?: { registrationType: string; registrationNumber: string };
  streamVersion: number;
}

/** The hub's API as the runner uses it (HubClient, or a fake in specs). */
export type DemoHub = Pick<HubClient, 'append' | 'createClient' | 'dossier'>;

/** The hub could not be reached, or stayed unavailable, through every retry. */
export class HubUnavailableError extends Error {
  override readonly name = 'HubUnavailableError';
}

/** The hub refused a request that the demo needs (bad token, bad client). */
export class HubRefusedError extends Error {
  override readonly name = 'HubRefusedError';
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    what: string,
  ) {
    const pointers = (problem?.errors ?? []).map((e) => ` ${e.pointer}: ${e.message}`).join(';');
    super(`${what}: the hub answered ${status} ${problem?.detail ?? problem?.title ?? ''}${pointers}`.trim());
  }
}

/** Counts every answer and every retry, for the progress line and the summary. */
export interface ResponseRecorder {
  response(status: number): void;
  networkError(): void;
  retry(): void;
}

export interface HubClientOptions {
  maxRetries: number;
  /** Per request. @defaultValue 30000 */
  timeoutMs?: number;
  recorder: ResponseRecorder;
}

const RETRIABLE_STATUS = new Set([429, 502, 503, 504]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The wait before retry `attempt` (1, 2, …): the server's `Retry-After` (seconds or an HTTP date)
 * when it sent one, else min(5 s, 100 ms × 2^(attempt-1)) with full jitter.
 */
export function retryDelayMs(attempt: number, retryAfter: string | null, now = Date.now()): number {
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return Math.random() * Math.min(5000, 100 * 2 ** (attempt - 1));
}

/**
 * The hub's HTTP API as the demo uses it. A 429, 502, 503 or 504 and a network error or timeout are
 * retried with the same body: the hub deduplicates by (source, id), so a retried append that had
 * already committed answers `duplicate` instead of appending twice.
 */
export class HubClient {
  private readonly timeoutMs: number;

  constructor(
    readonly baseUrl: string,
    private readonly options: HubClientOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** POST /v1/events: one event in structured mode, or a batch. */
  async append(token: string, events: readonly CloudEvent[], batch: boolean): Promise<AppendOutcome> {
    const { status, body } = await this.request('POST', '/v1/events', token, {
      contentType: batch ? 'application/cloudevents-batch+json' : 'application/cloudevents+json',
      body: JSON.stringify(batch ? events : events[0]),
    });
    if (status === 200 || status === 201) {
      const results = (body as { results?: { duplicate?: boolean }[] } | undefined)?.results ?? [];
      return { kind: 'appended', status, duplicates: results.filter((r) => r.duplicate === true).length };
    }
    if (status === 409) return { kind: 'conflict', problem: body as Problem | undefined };
    return { kind: 'refused', status, problem: body as Problem | undefined };
  }

  /** POST /v1/admin/clients with the admin token; returns the new client's token. */
  async createClient(
    adminToken: string,
    input: { name: string; province?: string; communes?: string[] },
  ): Promise<string> {
    const { status, body } = await this.request('POST', '/v1/admin/clients', adminToken, {
      contentType: 'application/json',
      body: JSON.stringify(input),
    });
    if (status !== 201)
      throw new HubRefusedError(status, body as Problem | undefined, `creating client ${input.name}`);
    return (body as { token: string }).token;
  }

  /**
   * GET /v1/dossiers/{code}: the hub's view of a dossier, or undefined while it has none (404: the
   * view lags the log by a moment, or the dossier is outside the token's scope).
   */
  async dossier(token: string, dossierCode: string): Promise<DossierSnapshot | undefined> {
    const { status, body } = await this.request(
      'GET',
      `/v1/dossiers/${encodeURIComponent(dossierCode)}`,
      token,
    );
    if (status === 200) return body as DossierSnapshot;
    if (status === 404) return undefined;
    throw new HubRefusedError(status, body as Problem | undefined, `reading dossier ${dossierCode}`);
  }

  private async request(
    method: string,
    path: string,
    token: string,
    payload?: { contentType: string; body: string },
  ): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.baseUrl);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            ...(payload === undefined ? {} : { 'content-type': payload.contentType }),
          },
          ...(payload === undefined ? {} : { body: payload.body }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        this.options.recorder.networkError();
        if (attempt >= this.options.maxRetries) {
          const reason = String((e as Error).cause ?? (e as Error).message);
          throw new HubUnavailableError(`cannot reach the hub at ${this.baseUrl}: ${reason}`, { cause: e });
        }
        this.options.recorder.retry();
        await sleep(retryDelayMs(attempt + 1, null));
        continue;
      }
      this.options.recorder.response(res.status);
      const text = await res.text();
      if (RETRIABLE_STATUS.has(res.status)) {
        if (attempt >= this.options.maxRetries) {
          throw new HubUnavailableError(
            `the hub at ${this.baseUrl} still answered ${res.status} after ${attempt + 1} attempts`,
          );
        }
        this.options.recorder.retry();
        await sleep(retryDelayMs(attempt + 1, res.headers.get('retry-after')));
        continue;
      }
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = { detail: text.slice(0, 200) };
      }
      return { status: res.status, body };
    }
  }
}
