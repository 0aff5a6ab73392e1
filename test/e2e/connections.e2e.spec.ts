import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { getJson, post, submitted, dossierCode } from '../support/events.js';
import { createCommuneClient, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';

interface Closed {
  /** Milliseconds from the connection to its close. */
  ms: number;
  /** What the hub wrote before closing. */
  data: string;
}

/** Opens a raw connection, writes `send` (if any), and resolves when the hub closes it. */
function rawConnection(
  url: string,
  send?: string,
  localAddress?: string,
): { socket: Socket; closed: Promise<Closed> } {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (data += d));
  socket.on('error', () => undefined);
  if (send !== undefined) socket.once('connect', () => socket.write(send));
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', () => resolve({ ms: Date.now() - started, data })),
  );
  return { socket, closed };
}

/** A keep-alive connection that has had one request answered and stays open, idle. */
async function idleConnection(
  url: string,
  localAddress?: string,
): Promise<{ socket: Socket; closed: Promise<Closed> }> {
  const { host } = new URL(url);
  const conn = rawConnection(url, `GET /health/live HTTP/1.1\r\nHost: ${host}\r\n\r\n`, localAddress);
  const answered = await Promise.race([
    new Promise<boolean>((resolve) => conn.socket.once('data', () => resolve(true))),
    conn.closed.then(() => false),
  ]);
  if (!answered) throw new Error('the connection was closed before it was answered');
  return conn;
}

describe('connection limits: header and request timeouts, a cap per address', () => {
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    const dir = tempDir('lgsp-connections-');
    const config = join(dir, 'hub.json');
    writeFileSync(
      config,
      JSON.stringify({
        http: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnectionsPerAddress: 6 },
      }),
    );
    hub = await startHubProcess({ env: { LGSP_CONFIG: config } });
    token = await createCommuneClient(hub, 'c1');
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('closes a connection that sends no headers, or only part of them, after the header timeout', async () => {
    const { host } = new URL(hub.url);
    const silent = rawConnection(hub.url);
    const partial = rawConnection(hub.url, `GET /v1/events HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bea`);
    for (const closed of await Promise.all([silent.closed, partial.closed])) {
      expect(closed.ms).toBeGreaterThanOrEqual(950);
      expect(closed.ms).toBeLessThan(3000);
      expect(closed.data).toMatch(/^HTTP\/1\.1 408 /);
    }
  });

  it('closes a request whose body stalls after the request timeout, appending nothing', async () => {
    const before = (await getJson(`${hub.url}/v1/events?limit=1`, token)).body.head;
    const { host } = new URL(hub.url);
    const body = JSON.stringify(submitted(dossierCode()));
    const stalled = rawConnection(
      hub.url,
      `POST /v1/events HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/cloudevents+json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 40)}`,
    );
    const closed = await stalled.closed;
    expect(closed.ms).toBeGreaterThanOrEqual(1900);
    expect(closed.ms).toBeLessThan(4500);
    expect(closed.data).toMatch(/^HTTP\/1\.1 408 /);
    expect((await getJson(`${hub.url}/v1/events?limit=1`, token)).body.head).toBe(before);
  });

  it('keeps the SSE tail open far past the request timeout: only receiving the request is timed', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const res = await fetch(`${hub.url}/v1/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      await new Promise((r) => setTimeout(r, Math.max(0, started + 4500 - Date.now())));
      const code = dossierCode();
      expect((await post(hub.url, token, submitted(code))).status).toBe(201);
      let text = '';
      while (!text.includes(code)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended; it held: ${text}`);
        text += value;
      }
    } finally {
      controller.abort();
    }
  });

  it('closes at once the connections of one address beyond the cap, and serves the others', async () => {
    // Addresses of their own (all of 127.0.0.0/8 is this machine's loopback): this test process keeps
    // pooled connections to the hub from 127.0.0.1.
    const address = '127.0.0.2';
    const open = await Promise.all(Array.from({ length: 6 }, () => idleConnection(hub.url, address)));
    try {
      const beyond = rawConnection(hub.url, `GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n`, address);
      const refused = await beyond.closed;
      expect(refused.ms).toBeLessThan(500);
      expect(refused.data).toBe('');
      // Another address is not affected.
      const other = await idleConnection(hub.url, '127.0.0.3');
      other.socket.destroy();
      // Once one closes, the address may connect again.
      open.pop()!.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const again = await idleConnection(hub.url, address);
      again.socket.destroy();
    } finally {
      for (const c of open) c.socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toMatch(/^lgsp_http_connections_refused_total [1-9][0-9]*$/m);
  });
});
