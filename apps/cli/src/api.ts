/** The problem document (RFC 9457) the hub answers errors with. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { pointer: string; message: string }[];
}

/** A thin client of the hub's HTTP API for the CLI; errors carry the problem document. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export class Api {
  /**
   * @param signal aborts every call in flight (the CLI's Ctrl-C); an aborted call rejects with the
   * signal's reason, not as an unreachable hub.
   */
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly signal?: AbortSignal,
  ) {}

  get hasToken(): boolean {
    return this.token !== undefined && this.token !== '';
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, { accept: 'application/json' }, body);
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, parseProblem(text));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Opens a response to read as it arrives (server-sent events); a non-2xx answer is an ApiError. */
  async open(path: string, accept: string, signal?: AbortSignal): Promise<Response> {
    const res = await this.fetch('GET', path, { accept }, undefined, signal);
    if (!res.ok) throw new ApiError(res.status, parseProblem(await res.text()));
    return res;
  }

  private async fetch(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    signal = this.signal,
  ): Promise<Response> {
    try {
      return await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...headers,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      const reason = String((e as Error).cause ?? (e as Error).message);
      throw new Error(`cannot reach the hub at ${this.baseUrl}: ${reason}`, { cause: e });
    }
  }
}

/** The problem in an error answer; a body that is not JSON (a proxy's page) is kept as the detail. */
function parseProblem(text: string): Problem | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return parsed as Problem;
  } catch {
    // not JSON
  }
  return { detail: text.slice(0, 200) };
}
