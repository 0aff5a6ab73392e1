/** A minimal HTTP client for driving simulators from tests and scripts. */
export interface HttpAnswer<T = Loose> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Answers are read field by field in tests, so the default body type is loose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export async function request<T = Loose>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Sends `body` as JSON and returns the JSON answer. @throws when the answer is not a 2xx. */
export async function sendJson(url: string, method: string, path: string, body: unknown): Promise<unknown> {
  const r = await request(url, method, path, body);
  if (r.status < 200 || r.status > 299)
    throw new Error(`${method} ${url}${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
