import type { RawResponse } from '../../support/raw-http.js';
import type { Case } from './requests.js';

/* What the fuzzing checks of each answer, and how it compares what it sent with what it reads back. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** NFC of every string and member name, as the hub normalises what it accepts. */
function nfc(value: Json): Json {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(nfc);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) out[k.normalize('NFC')] = nfc(v);
  return out;
}

/** JSON with sorted member names: equal texts mean equal JSON values. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The events a 2xx ingest acknowledged, as the hub must give them back. */
export function sentEvents(c: Case): Json[] {
  const { request } = c;
  const body = String(request.body);
  let events: { [key: string]: Json }[];
  if (c.kind === 'binary') {
    const event: { [key: string]: Json } = {};
    for (const [name, value] of request.headers ?? []) {
      if (name.startsWith('ce-')) event[name.slice(3)] = decodeURIComponent(String(value));
      if (name === 'content-type') event['datacontenttype'] = String(value);
    }
    event['data'] = JSON.parse(body) as Json;
    events = [event];
  } else {
    const parsed = JSON.parse(body) as Json;
    events = (Array.isArray(parsed) ? parsed : [parsed]) as { [key: string]: Json }[];
  }
  return events.map((e) => {
    const { expectedversion: _, ...stored } = e;
    return nfc(stored);
  });
}

export function expectProblem(res: RawResponse, c: Case): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (c.request.method === 'HEAD') return;
  const problem = JSON.parse(res.body) as Record<string, unknown>;
  expect(problem).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status: res.status,
      detail: expect.any(String),
      errors: expect.any(Array),
    }),
  );
  for (const issue of problem['errors'] as unknown[]) {
    expect(issue).toEqual({ pointer: expect.any(String), message: expect.any(String) });
  }
}
