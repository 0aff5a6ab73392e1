/** A thin client of the hub's HTTP API for the CLI; errors carry the problem document. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem:
      { title?: string; detail?: string; errors?: { pointer: string; message: string }[] } | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const reason = String((e as Error).cause ?? (e as Error).message);
      throw new Error(`cannot reach the hub at ${this.baseUrl}: ${reason}`, { cause: e });
    }
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, parsed as ApiError['problem']);
    return parsed as T;
  }
}
