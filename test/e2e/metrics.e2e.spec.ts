import { randomUUID } from 'node:crypto';
import { COMMUNE, dossierCode, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';

/** The hub's heap as the V8 inspector sees it after full garbage collections (`--inspect` only). */
async function connectInspector(hub: HubProcess): Promise<{ heapUsed(): Promise<number>; close(): void }> {
  const url = await eventually(async () => /Debugger listening on (ws:\/\/\S+)/.exec(hub.output())?.[1]);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (m: MessageEvent) => {
    const message = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  };
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      waiting.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async heapUsed() {
      await send('HeapProfiler.collectGarbage');
      await send('HeapProfiler.collectGarbage');
      const answer = (await send('Runtime.evaluate', {
        expression: 'process.memoryUsage().heapUsed',
        returnByValue: true,
      })) as { result: { value: number } };
      return answer.result.value;
    },
    close: () => ws.close(),
  };
}

/** Events whose `type` is not in the catalogue, as hostile clients send them. */
function hostileRequests(
  round: string,
  n: number,
): { label: string; send(url: string, token: string): Promise<Response> }[] {
  const structured = (type: string) => ({ ...submitted(dossierCode()), type });
  const post = (url: string, token: string, body: string, headers: Record<string, string>) =>
    fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
      body,
    });
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 10;
    if (kind === 0) {
      const type = `vn.gov.lgsp.${round}-${i}.${'x'.repeat(500_000)}`;
      return {
        label: type.slice(0, 1000),
        send: (url, token) =>
          post(url, token, JSON.stringify(structured(type)), {
            'content-type': 'application/cloudevents+json',
          }),
      };
    }
    if (kind <= 4) {
      const type = `vn.gov.lgsp.${randomUUID()}.v1`;
      const event = submitted(dossierCode());
      return {
        label: type,
        send: (url, token) =>
          post(url, token, JSON.stringify(event.data), {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': randomUUID(),
            'ce-source': event.source as string,
            'ce-type': type,
          }),
      };
    }
    if (kind <= 8) {
      const type = `Nguyễn Văn An ${round}-${i} 0511900${String(i).padStart(5, '0')} 0912${String(i).padStart(6, '0')}`;
      return {
        label: type,
        send: (url, token) =>
          post(url, token, JSON.stringify(structured(type)), {
            'content-type': 'application/cloudevents+json',
          }),
      };
    }
    const types = Array.from(
      { length: 5 },
      (_, k) => `Trần Thị Bình ${round}-${i}-${k} 079${String(i * 10 + k).padStart(9, '0')}`,
    );
    return {
      label: types.join(' | '),
      send: (url, token) =>
        post(url, token, JSON.stringify(types.map(structured)), {
          'content-type': 'application/cloudevents-batch+json',
        }),
    };
  });
}

/**
 * Resolves once the hub has written nothing for half a second: the refusals' log lines are written
 * asynchronously, and the ones still queued for the pipe are held in the hub's memory until then.
 */
async function logDrained(hub: HubProcess): Promise<void> {
  let seen = -1;
  while (hub.output().length !== seen) {
    seen = hub.output().length;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function sendAll(
  requests: ReturnType<typeof hostileRequests>,
  url: string,
  token: string,
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < requests.length) {
        const res = await requests[next++]!.send(url, token);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

describe('/metrics under hostile input', () => {
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    hub = await startHubProcess({ nodeArgs: ['--inspect=127.0.0.1:0'] });
    token = await createCommuneClient(hub, 'hostile');
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('stays under 1 MB, shows none of 1,000 hostile event types, and the heap returns to its level', async () => {
    const inspector = await connectInspector(hub);
    try {
      // Warm up the refusal paths first, so that the baseline holds their compiled code.
      expect(
        (await sendAll(hostileRequests('warm', 100), hub.url, token)).every((s) => s >= 400 && s < 500),
      ).toBe(true);
      await logDrained(hub);
      const before = await inspector.heapUsed();

      const hostile = hostileRequests('run', 1000);
      const statuses = await sendAll(hostile, hub.url, token);
      expect(statuses).toHaveLength(1000);
      expect(statuses.filter((s) => s < 400 || s >= 500)).toEqual([]);

      const res = await fetch(`${hub.url}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Buffer.byteLength(text)).toBeLessThan(1_000_000);
      for (const { label } of hostile)
        for (const type of label.split(' | ')) expect(text).not.toContain(type);
      expect(text).not.toContain('x'.repeat(100));
      // Names and label sets only: a sample value (an event-loop lag of 0.0912…) may hold any digits.
      const series = text
        .split('\n')
        .filter((line) => !line.startsWith('#'))
        .map((line) => line.replace(/ [^ ]+$/, ''))
        .join('\n');
      expect(series).not.toMatch(/Nguyễn|Trần|0511900|0912/);
      expect(text).toMatch(/^lgsp_ingest_events_total\{type="invalid",outcome="rejected-invalid"\} [0-9]+$/m);

      await logDrained(hub);
      const after = await inspector.heapUsed();
      process.stdout.write(
        `heap used after GC: ${before} bytes before, ${after} after 1,000 hostile requests\n`,
      );
      expect(after).toBeLessThan(before * 1.1);
    } finally {
      inspector.close();
    }
  });
});

describe('/metrics protected by a token, or on a port of its own', () => {
  const metricsToken = `metrics-${randomUUID()}`;

  it('asks for the metrics token (401 otherwise, whatever client token comes), and limits scrapes per address', async () => {
    const hub = await startHubProcess({ env: { LGSP_METRICS_TOKEN: metricsToken } });
    try {
      const env = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
      const created = async (...args: string[]) =>
        (
          JSON.parse((await runCli(['clients', 'create', ...args, '--json'], env)).stdout) as {
            token: string;
          }
        ).token;
      const tokens: [string, string | undefined][] = [
        ['no token', undefined],
        ['a wrong token', `${metricsToken}x`],
        ['admin', hub.adminToken],
        ['operator', await created('--name', 'ops', '--role', 'operator')],
        ['province', await created('--name', 'p51', '--province', '51')],
        ['commune', await createCommuneClient(hub, 'c1', COMMUNE)],
      ];
      const scrape = (bearer: string | undefined) =>
        fetch(
          `${hub.url}/metrics`,
          bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } },
        );
      for (const [who, bearer] of tokens) {
        const res = await scrape(bearer);
        expect([who, res.status]).toEqual([who, 401]);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(await res.text()).not.toContain(metricsToken);
      }
      const ok = await scrape(metricsToken);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await ok.text()).toMatch(/^lgsp_store_head_position /m);

      const scrapes = await Promise.all(Array.from({ length: 30 }, () => scrape(metricsToken)));
      const refused = scrapes.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.headers.get('ratelimit-policy')).toBe('"metrics";q=20;w=2');
      expect(refused[0]!.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect((await fetch(`${hub.url}/health/ready`)).status).toBe(200);
      expect(
        (
          await fetch(`${hub.url}/v1/events?limit=1`, {
            headers: { authorization: `Bearer ${hub.adminToken}` },
          })
        ).status,
      ).toBe(200);
      expect(hub.output()).not.toContain(metricsToken);
    } finally {
      await hub.stop();
    }
  });

  it('serves /metrics on metrics.port only, and nothing else there', async () => {
    const hub = await startHubProcess({ env: { LGSP_METRICS_PORT: '0', LGSP_METRICS_TOKEN: metricsToken } });
    try {
      const metricsUrl = await eventually(async () => {
        for (const line of hub.output().split('\n')) {
          if (!line.includes('"metrics listening"')) continue;
          return (JSON.parse(line) as { url: string }).url;
        }
        return undefined;
      });
      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/metrics$/);
      expect(new URL(metricsUrl).port).not.toBe(new URL(hub.url).port);

      const withToken = { headers: { authorization: `Bearer ${metricsToken}` } };
      const separate = await fetch(metricsUrl, withToken);
      expect(separate.status).toBe(200);
      expect(await separate.text()).toMatch(/^lgsp_ingest_events_total|^lgsp_store_head_position /m);
      const anonymous = await fetch(metricsUrl);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await fetch(new URL('/health/live', metricsUrl), withToken)).status).toBe(404);
      expect((await fetch(new URL('/v1/events', metricsUrl), withToken)).status).toBe(404);
      expect((await fetch(metricsUrl, { ...withToken, method: 'POST' })).status).toBe(404);

      for (const init of [{}, withToken, { headers: { authorization: `Bearer ${hub.adminToken}` } }]) {
        const main = await fetch(`${hub.url}/metrics`, init);
        expect(main.status).toBe(404);
        expect(main.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);

      // Requests to the metrics listener are timed like the main port's: the route pattern (or
      // `unmatched`), never the path. A scrape is recorded once answered, so the next one shows it.
      const duration = (text: string, labels: string): number =>
        Number(
          new RegExp(`^lgsp_http_request_duration_seconds_count\\{${labels}\\} (\\S+)$`, 'm').exec(
            text,
          )?.[1] ?? 0,
        );
      const scraped = await eventually(async () => {
        const text = await (await fetch(metricsUrl, withToken)).text();
        return duration(text, 'method="GET",route="/metrics",status="200"') >= 1 ? text : undefined;
      });
      expect(duration(scraped, 'method="GET",route="/metrics",status="401"')).toBe(1);
      expect(duration(scraped, 'method="GET",route="unmatched",status="404"')).toBe(2);
      expect(duration(scraped, 'method="POST",route="unmatched",status="404"')).toBe(1);
      // The main port's refusals of /metrics, under its route as well.
      expect(duration(scraped, 'method="GET",route="/metrics",status="404"')).toBe(3);
      expect(scraped).not.toMatch(/route="\/(health|v1)\/[^"]*",status="404"/);
      expect(scraped).toMatch(
        /^lgsp_http_request_duration_seconds_sum\{method="GET",route="\/metrics",status="200"\} [0-9.e-]+$/m,
      );
    } finally {
      await hub.stop();
    }
  });
});
