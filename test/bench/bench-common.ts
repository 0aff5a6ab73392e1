import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import type { EventToAppend } from '#lgsp/event-store';
import { COMMUNE, PROVINCE } from '../support/events.js';

/** An event of `test/support/events` (a dossier of the test commune) as the store's append takes it. */
export function appendable(e: Record<string, unknown>): EventToAppend {
  const data = e.data as { dossierCode: string };
  return {
    stream: `dossier-${data.dossierCode}`,
    expectedVersion: 'any',
    id: String(e.id),
    source: String(e.source),
    type: String(e.type),
    time: String(e.time),
    data: e.data,
    extensions: {},
    provinceCode: PROVINCE,
    communeCode: COMMUNE,
  };
}

/**
 * Runs `bench` when the module at `moduleUrl` is the process's entry point (not imported by
 * `run.ts`), printing its figures as one JSON line; a failure exits 1.
 */
export function runIfMain(moduleUrl: string, bench: () => Promise<unknown>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  bench()
    .then((figures) => console.log(`\n${JSON.stringify(figures)}`))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

/** What one load of `POST /v1/events` achieved. */
export interface HttpIngestResult {
  eventsPerSecond: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, errors and time-outs. */
  errors: number;
}

/**
 * Loads the hub's `POST /v1/events` for `seconds` with autocannon: `connections` connections, each
 * request a body from `nextBody` (a single CloudEvent, or a batch of `batch` when `batch` > 1).
 */
export async function httpIngest(
  url: string,
  token: string,
  shape: { batch: number; connections: number },
  seconds: number,
  nextBody: () => string,
): Promise<HttpIngestResult> {
  const { batch, connections } = shape;
  const result = await autocannon({
    url: `${url}/v1/events`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': batch === 1 ? 'application/cloudevents+json' : 'application/cloudevents-batch+json',
        },
        setupRequest: (req) => ({ ...req, body: nextBody() }),
      },
    ],
  });
  const ok = result['2xx'];
  return {
    eventsPerSecond: (ok * batch) / (result.duration || seconds),
    requestsPerSecond: ok / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}
