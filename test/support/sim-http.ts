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
