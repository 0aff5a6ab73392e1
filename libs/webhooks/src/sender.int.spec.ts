import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESPONSE_EXCERPT_BYTES, WebhookSender } from './sender.js';

/** A local server answering with `answer`, counting the connections and requests it got. */
async function server(
  answer: (res: import('node:http').ServerResponse) => void,
): Promise<{ port: number; requests: number; connections: number; close(): Promise<void> }> {
  const state = { requests: 0, connections: 0 };
  const srv: Server = createServer((req, res) => {
    state.requests += 1;
    req.resume();
    req.on('end', () => answer(res));
  });
  srv.on('connection', () => (state.connections += 1));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    close: () => {
      srv.closeAllConnections();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

const senders: WebhookSender[] = [];
const sender = (options: ConstructorParameters<typeof WebhookSender>[0]) => {
  const s = new WebhookSender(options);
  senders.push(s);
  return s;
};
afterAll(() => senders.forEach((s) => s.close()));

describe('WebhookSender', () => {
  it('refuses, on the connection itself, a name that resolves to a loopback address: nothing reaches the server', async () => {
    const srv = await server((res) => res.writeHead(204).end());
    try {
      const safe = sender({ allowInsecureTargets: false, timeoutMs: 2000 });
      const byName = await safe.post(new URL(`https://localhost:${srv.port}/hook`), {}, '{}');
      expect(byName.status).toBeUndefined();
      expect(byName.error).toMatch(/loopback|not public|private/);
      const byAddress = await safe.post(new URL(`https://127.0.0.1:${srv.port}/hook`), {}, '{}');
      expect(byAddress.status).toBeUndefined();
      expect(byAddress.error).toMatch(/127\.0\.0\.1/);
      const plain = await safe.post(new URL(`http://example.com/hook`), {}, '{}');
      expect(plain.error).toMatch(/http: targets are not allowed/);
      expect(srv.connections).toBe(0);
      // Allowed by the setting, the same server answers.
      const insecure = sender({ allowInsecureTargets: true, timeoutMs: 2000 });
      expect((await insecure.post(new URL(`http://localhost:${srv.port}/hook`), {}, '{}')).status).toBe(204);
      expect(srv.requests).toBe(1);
    } finally {
      await srv.close();
    }
  });

  it('follows no redirect, keeps the first KiB of an answer, and reads Retry-After of a 429', async () => {
    let next: (res: import('node:http').ServerResponse) => void = () => undefined;
    const srv = await server((res) => next(res));
    try {
      const s = sender({ allowInsecureTargets: true, timeoutMs: 2000 });
      const url = new URL(`http://127.0.0.1:${srv.port}/hook?token=t`);
      next = (res) => res.writeHead(307, { location: `http://127.0.0.1:${srv.port}/elsewhere` }).end();
      const redirected = await s.post(url, {}, '{}');
      expect(redirected).toMatchObject({ status: 307, error: expect.stringMatching(/redirect/) });
      expect(srv.requests).toBe(1);

      next = (res) => res.writeHead(500).end('x'.repeat(5000));
      const long = await s.post(url, {}, '{}');
      expect(long.status).toBe(500);
      expect(long.response).toHaveLength(RESPONSE_EXCERPT_BYTES);

      next = (res) => res.writeHead(429, { 'retry-after': '7' }).end();
      expect(await s.post(url, {}, '{}')).toMatchObject({ status: 429, retryAfterMs: 7000 });
    } finally {
      await srv.close();
    }
  });

  it('gives up on an endpoint that does not answer within the timeout', async () => {
    const srv = await server(() => undefined);
    try {
      const s = sender({ allowInsecureTargets: true, timeoutMs: 300 });
      const started = Date.now();
      const result = await s.post(new URL(`http://127.0.0.1:${srv.port}/hook`), {}, '{}');
      expect(result.status).toBeUndefined();
      expect(result.error).toMatch(/timeout/i);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await srv.close();
    }
  });
});
