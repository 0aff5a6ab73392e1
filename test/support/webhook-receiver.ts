import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery as a receiver got it. */
export interface ReceivedDelivery {
  id: string;
  timestamp: string;
  signature: string;
  contentType: string | undefined;
  body: string;
  event: {
    id: string;
    type: string;
    lgspposition: number;
    lgspstream: string;
    lgspstreamversion: number;
    lgspreplay?: string;
    data: Record<string, unknown>;
  } & Record<string, unknown>;
  /** When it arrived (ms since epoch). */
  at: number;
  /** The status this receiver answered. */
  answered: number;
}

/** Decides the answer to a delivery: a status, or a status and headers; default 204. */
export type Responder = (
  d: Omit<ReceivedDelivery, 'answered'>,
) => number | { status: number; headers?: Record<string, string>; body?: string };

/**
 * A webhook receiver for tests: records every delivery (answered or not), answers what `respond` says,
 * and can go down (its port closed) and come back on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  respond: Responder = () => 204;
  private server: Server | undefined;
  private port = 0;

  static async start(respond?: Responder): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    if (respond) r.respond = respond;
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Deliveries answered 2xx. */
  get acknowledged(): ReceivedDelivery[] {
    return this.received.filter((d) => d.answered >= 200 && d.answered < 300);
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the port and every open connection: tries get "connection refused" until {@link up}. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const d = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        contentType: req.headers['content-type'],
        body,
        event: JSON.parse(body) as ReceivedDelivery['event'],
        at: Date.now(),
      };
      const answer = this.respond(d);
      const {
        status,
        headers,
        body: text,
      } = typeof answer === 'number' ? { status: answer, headers: undefined, body: undefined } : answer;
      this.received.push({ ...d, answered: status });
      res.writeHead(status, headers);
      res.end(text);
    });
  }
}

/** The headers `standardwebhooks`' `verify` reads, from a recorded delivery. */
export const signedHeaders = (d: ReceivedDelivery): Record<string, string> => ({
  'webhook-id': d.id,
  'webhook-timestamp': d.timestamp,
  'webhook-signature': d.signature,
});
