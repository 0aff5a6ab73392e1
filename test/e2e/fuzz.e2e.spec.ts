import fc from 'fast-check';
import { startHubProcess, type HubProcess } from '../support/hub-process.js';
import { rawRequest, type RawRequest } from '../support/raw-http.js';
import { canonical, expectProblem, sentEvents, type Json } from './fuzz/checks.js';
import { CREDENTIAL, hostileRequest } from './fuzz/requests.js';

/**
 * Property-based fuzzing of a hub started as a process (`node dist/apps/hub/src/main.js`), over real
 * sockets: ingest in the three CloudEvents modes, reads, operator bodies, query strings and headers, with
 * hostile JSON (deep nesting, huge strings, lone surrogates, odd numbers, `__proto__`, repeated members),
 * repeated and raw-byte headers, and transport faults (a body shorter than its Content-Length, broken
 * chunking, a NUL in a header, an aborted request, bytes after a `Connection: close` request). Every case
 * asserts: no 5xx; every error is an RFC 9457 problem; a refused write leaves the head of the log where
 * it was. At the end the whole log after the run's start is read back: it holds exactly the acknowledged
 * events, each equal to what was sent (NFC). Cases name credentials, so a counterexample shows no token.
 *
 * `LGSP_FUZZ_SEED` replays a run, `LGSP_FUZZ_RUNS` changes its length (at least 3,000 in CI).
 */
const RUNS = Number(process.env['LGSP_FUZZ_RUNS'] ?? 3000);
const SEED = Number(process.env['LGSP_FUZZ_SEED'] ?? Date.now() % 2 ** 31);

// The hostile values are in fuzz/values.ts, the requests made of them in fuzz/requests.ts, the
// checks of each answer in fuzz/checks.ts.

describe('hostile input, property-based (fast-check) against a hub process', () => {
  let hub: HubProcess;
  const token = { commune: '', admin: '' };
  let startHead = 0;
  let expectedHead = 0;
  /** Acknowledged events by position, as they must read back. */
  const acknowledged = new Map<number, string>();
  const statuses = new Map<string, number>();

  /** The case's request with the credentials it names replaced by the tokens of this run. */
  const withTokens = (request: RawRequest): RawRequest => ({
    ...request,
    headers: request.headers?.map(([name, value]) => [
      name,
      typeof value === 'string'
        ? value.replace(CREDENTIAL.commune, token.commune).replace(CREDENTIAL.admin, token.admin)
        : value,
    ]),
  });

  const head = async (): Promise<number> => {
    const res = await fetch(`${hub.url}/v1/events?limit=1`, {
      headers: { authorization: `Bearer ${token.admin}` },
    });
    return ((await res.json()) as { head: number }).head;
  };

  beforeAll(async () => {
    hub = await startHubProcess();
    token.admin = hub.adminToken;
    const created = await fetch(`${hub.url}/v1/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fuzz', communes: ['21040'] }),
    });
    expect(created.status).toBe(201);
    token.commune = ((await created.json()) as { token: string }).token;
    startHead = await head();
    expectedHead = startHead;
  });

  afterAll(async () => {
    await hub.stop();
  });

  it(`answers ${RUNS} hostile requests without a 5xx, with a problem for every error, appending only what it acknowledged`, async () => {
    process.stderr.write(`[fuzz] seed ${SEED}, ${RUNS} cases (replay: LGSP_FUZZ_SEED=${SEED})\n`);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (c) => {
        const res = await rawRequest(hub.url, withTokens(c.request));
        const key = `${c.kind} ${res?.status ?? 'closed'}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (c.noAnswer) expect(res).toBeUndefined();
        else {
          expect(res).toBeDefined();
          if (res === undefined) return;
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectProblem(res, c);
          const ingest = c.request.target === '/v1/events' && c.request.method === 'POST';
          if (ingest && res.status < 300) {
            const { results } = JSON.parse(res.body) as {
              results: { position: number; duplicate: boolean }[];
            };
            const sent = sentEvents(c);
            expect(results).toHaveLength(sent.length);
            results.forEach((r, i) => {
              if (r.duplicate) expect(acknowledged.has(r.position) || r.position <= startHead).toBe(true);
              else acknowledged.set(r.position, canonical(sent[i] as Json));
              expectedHead = Math.max(expectedHead, r.position);
            });
          }
        }
        if (c.write && (res === undefined || res.status >= 300 || c.request.target !== '/v1/events')) {
          expect(await head()).toBe(expectedHead);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );

    // The log after the run's start holds exactly the acknowledged events, each as it was sent.
    const stored = new Map<number, string>();
    for (let after = startHead; ;) {
      const res = await fetch(`${hub.url}/v1/events?after=${after}&limit=1000`, {
        headers: { authorization: `Bearer ${token.admin}` },
      });
      const page = (await res.json()) as { events: { position: number; event: Json }[]; next: number };
      for (const e of page.events) stored.set(e.position, canonical(e.event));
      if (page.events.length < 1000) break;
      after = page.next;
    }
    expect([...stored.keys()].sort((a, b) => a - b)).toEqual([...acknowledged.keys()].sort((a, b) => a - b));
    for (const [position, event] of acknowledged) expect(stored.get(position)).toBe(event);

    const summary = [...statuses.entries()]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    process.stderr.write(
      `[fuzz] seed ${SEED}: ${RUNS} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `${acknowledged.size} events appended and read back equal; ${summary}\n`,
    );
    // A run that accepted nothing, or refused nothing, would not have tested what it claims.
    expect(acknowledged.size).toBeGreaterThan(RUNS / 20);
    expect([...statuses.keys()].some((k) => / 4\d\d$/.test(k))).toBe(true);
  });
});
