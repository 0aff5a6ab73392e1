import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliIo } from './io.js';

export type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse) => [number, unknown] | void;
interface Seen {
  method: string;
  url: string;
  body: unknown;
  auth: string | undefined;
}

/** A stand-in for the hub speaking the documented operator API: routes by "METHOD path". */
export async function fakeHub(routes: Record<string, Handler>) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body: unknown = text ? JSON.parse(text) : undefined;
      seen.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
      const key = `${req.method} ${req.url!.split('?')[0]}`;
      const handler = routes[key];
      const answer: [number, unknown] | void = handler
        ? handler(req, body, res)
        : [404, { title: 'Not Found', detail: `no ${key}` }];
      if (!answer) return;
      const [status, payload] = answer;
      res.writeHead(status, {
        'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
      });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An in-process CliIo talking to `url`, with what the command wrote in `out`. */
export function io(url: string, extra: Partial<CliIo> = {}) {
  const out = { stdout: '', stderr: '' };
  const controller = new AbortController();
  const cli: CliIo = {
    env: { LGSP_URL: url, LGSP_TOKEN: 'ops-token' },
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    interrupt: controller.signal,
    readFile: () =>
      '# dossiers\n000.00.15.H12-250701-0001, 000.00.15.H12-250701-0002\n\n000.00.15.H12-250701-0001\n',
    pollMs: 5,
    plainProgressMs: 0,
    ...extra,
  };
  return { cli, out, controller };
}
