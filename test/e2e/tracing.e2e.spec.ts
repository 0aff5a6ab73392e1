import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NationalPortalSimulator } from '#lgsp/simulators';
import { getJson, post, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 17's tracing acceptance: the hub as a process exporting over OTLP/HTTP (JSON) to a local
 * receiver, the national portal's connector on (the simulator behind a proxy that records the headers
 * of each call). One trace holds the commune's `POST /v1/events` and the portal connector's call for that
 * dossier; a replay of the dossier to the portal, later, is its own trace whose spans link to it.
 */

const PORTAL_PASSWORD = 'p0rtal-s3cret';
const portalCode = (): string => `000.00.51.H56-251123-${String(randomInt(100_000, 999_999))}`;
const SERVER = 2;
const CLIENT = 3;

interface SeenCall {
  path: string;
  traceparent: string | undefined;
  replay: string | undefined;
}

/** Forwards every request to `target` and records its path, traceparent and replay header. */
async function recordingProxy(target: string, seen: SeenCall[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(',') : v;
      };
      seen.push({ path: req.url ?? '', traceparent: header('traceparent'), replay: header('x-lgsp-replay') });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k !== 'host' && k !== 'content-length' && k !== 'connection' && typeof v === 'string')
          headers[k] = v;
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url ?? ''}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body && req.method !== 'GET' ? { body } : {}),
      })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Attribute names a hub span may carry: the hub's codes and counts, and the OTel HTTP/messaging ones. */
const ALLOWED_ATTRIBUTES =
  /^(lgsp\.(dossier\.code|target|position(\.first|\.last)?|replay\.(id|items)|sync\.status|events|ingest\.mode|commit\.(calls|events)|append\.attempts|webhook\.(id|attempt)|event\.type)|messaging\.[a-z_.]+|http\.(request\.method(_original)?|route|response\.status_code)|url\.(full|path|query|scheme)|server\.(address|port)|network\.[a-z_.]+|user_agent\.original|error\.type)$/;

const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split('-')[1];

describe('tracing (hub process exporting OTLP/HTTP JSON to a local receiver)', () => {
  const receiver = new OtlpReceiver();
  const seen: SeenCall[] = [];
  let portal: NationalPortalSimulator;
  let proxy: Server;
  let hub: HubProcess;
  let token: string;
  let hook: WebhookReceiver;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    hook = await WebhookReceiver.start();
    portal = new NationalPortalSimulator({ password: PORTAL_PASSWORD });
    const portalUrl = (await portal.start(0)).url;
    const recorded = await recordingProxy(portalUrl, seen);
    proxy = recorded.server;
    hub = await startHubProcess({
      env: {
        LGSP_PORTAL_ENABLED: 'true',
        LGSP_PORTAL_URL: recorded.url,
        LGSP_PORTAL_PASSWORD: PORTAL_PASSWORD,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'lgsp-hub-e2e',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        LGSP_WEBHOOKS_ALLOW_INSECURE: 'true',
      },
    });
    token = await createCommuneClient(hub, 'tracing');
    const created = await fetch(`${hub.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, filter: { communes: ['21040'] } }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await hook?.down();
    await hub?.stop();
    await portal?.stop();
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await receiver.stop();
  });

  const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);

  it("links the commune's POST /v1/events to the portal call for its dossier, and a replay to both", async () => {
    const dossier = portalCode();
    const event = submitted(dossier);
    const { fullName, idNumber } = (event.data as { applicant: { fullName: string; idNumber: string } })
      .applicant;
    // The commune's software traces its own request: the hub's spans join that trace.
    const traceId = randomBytes(16).toString('hex');
    const commune = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const r = await post(hub.url, token, event, 'application/cloudevents+json', { traceparent: commune });
    expect(r.status).toBe(201);

    // The request's server span, a child of the commune's, and the append with the group it joined.
    const ingest = await eventually(async () =>
      spansOf(traceId).find((s) => s.name === 'POST /v1/events' && s.kind === SERVER),
    );
    expect(ingest.parentSpanId).toBe(commune.split('-')[2]);
    expect(ingest.serviceName).toBe('lgsp-hub-e2e');
    const append = spansOf(traceId).find((s) => s.name === 'append' && s.parentSpanId === ingest.spanId);
    expect(append?.attributes['lgsp.commit.calls']).toBeGreaterThanOrEqual(1);
    expect(append?.attributes['lgsp.commit.events']).toBeGreaterThanOrEqual(1);

    // The event is stored with the hub's span as its traceparent (so the hash chain covers it).
    const stream = await getJson(
      `${hub.url}/v1/streams/dossier-${encodeURIComponent(dossier)}`,
      hub.adminToken,
    );
    const stored = (stream.body.events as { event: { traceparent?: string } }[])[0]?.event;
    const storedTp = stored?.traceparent;
    expect(storedTp).toBe(`00-${traceId}-${ingest.spanId}-01`);

    // The portal connector's sync of that dossier is in the same trace, its HTTP call a child of it.
    const sync = await eventually(async () =>
      spansOf(traceId).find((s) => s.name === 'portal sync' && s.attributes['lgsp.dossier.code'] === dossier),
    );
    expect(sync.parentSpanId).toBe(ingest.spanId);
    const call = await eventually(async () =>
      spansOf(traceId).find((s) => s.kind === CLIENT && s.parentSpanId === sync.spanId),
    );
    expect(call.attributes['http.request.method']).toBe('POST');
    // The call carried the trace to the portal.
    const carried = seen.filter((c) => traceIdOf(c.traceparent) === traceId);
    expect(carried.length).toBeGreaterThan(0);
    expect(carried.every((c) => c.replay === undefined)).toBe(true);

    // The webhook delivery of the event is in that trace too; its call names the receiver's origin only.
    const delivery = await eventually(async () =>
      spansOf(traceId).find(
        (s) => s.name === 'webhook deliver' && s.attributes['lgsp.dossier.code'] === dossier,
      ),
    );
    expect(delivery.parentSpanId).toBe(ingest.spanId);
    const delivered = await eventually(async () =>
      spansOf(traceId).find((s) => s.kind === CLIENT && s.parentSpanId === delivery.spanId),
    );
    expect(delivered.attributes['url.full']).toBe(new URL(hook.url).origin);

    // A replay of that dossier to the portal: its own trace, linking back to the original request.
    const run = await runCli(
      ['replay', 'run', '--target', 'portal', '--dossiers', dossier, '--yes', '--json'],
      {
        LGSP_URL: hub.url,
        LGSP_TOKEN: hub.adminToken,
      },
    );
    expect(run.code).toBe(0);
    const replayId = (JSON.parse(run.stdout) as { replay: { id: string; state: string } }).replay.id;
    const replayed = await eventually(async () =>
      receiver.spans.find(
        (s) =>
          s.name === 'portal sync' &&
          s.attributes['lgsp.replay.id'] === replayId &&
          s.attributes['lgsp.dossier.code'] === dossier,
      ),
    );
    expect(replayed.traceId).not.toBe(traceId);
    expect(replayed.links).toContainEqual({ traceId, spanId: ingest.spanId });
    const replayRoot = spansOf(replayed.traceId).find((s) => s.spanId === replayed.parentSpanId);
    expect(replayRoot).toMatchObject({ name: 'replay portal', parentSpanId: undefined });
    const replayCall = await eventually(async () =>
      spansOf(replayed.traceId).find((s) => s.kind === CLIENT && s.parentSpanId === replayed.spanId),
    );
    expect(replayCall).toBeDefined();
    expect(seen.some((c) => c.replay === replayId && traceIdOf(c.traceparent) === replayed.traceId)).toBe(
      true,
    );

    // Nothing personal in any span: codes, types and positions only, under the known attribute names.
    const names = new Set(receiver.spans.flatMap((s) => Object.keys(s.attributes)));
    for (const name of names) expect(name).toMatch(ALLOWED_ATTRIBUTES);
    const everything = JSON.stringify(receiver.spans);
    expect(everything).toContain(dossier);
    expect(everything).not.toContain(fullName);
    expect(everything).not.toContain(idNumber);
  });

  it('refuses an event whose traceparent extension is malformed, with a problem, and stores nothing', async () => {
    const dossier = portalCode();
    const r = await post(hub.url, token, { ...submitted(dossier), traceparent: '00-not-a-trace-01' });
    expect(r.status).toBe(422);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body.errors).toEqual([
      { pointer: '/traceparent', message: expect.stringContaining('W3C traceparent') },
    ]);
    const stream = await getJson(
      `${hub.url}/v1/streams/dossier-${encodeURIComponent(dossier)}`,
      hub.adminToken,
    );
    expect(stream.body.events ?? []).toEqual([]);
  });

  it('starts the trace at the hub, and stores it, when the request carries no or a malformed traceparent', async () => {
    for (const header of [undefined, '00-zz-not-a-traceparent-01']) {
      const dossier = portalCode();
      const r = await post(
        hub.url,
        token,
        submitted(dossier),
        'application/cloudevents+json',
        header === undefined ? {} : { traceparent: header },
      );
      expect(r.status).toBe(201);
      const stream = await getJson(
        `${hub.url}/v1/streams/dossier-${encodeURIComponent(dossier)}`,
        hub.adminToken,
      );
      const stored = (stream.body.events as { event: { traceparent?: string } }[])[0]?.event;
      const tp = stored?.traceparent;
      expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const ingest = await eventually(async () =>
        receiver.spans.find((s) => s.name === 'POST /v1/events' && s.spanId === tp!.split('-')[2]),
      );
      expect(ingest.parentSpanId).toBeUndefined();
      await eventually(async () =>
        spansOf(ingest.traceId).find(
          (s) => s.name === 'portal sync' && s.attributes['lgsp.dossier.code'] === dossier,
        ),
      );
    }
  });
});

describe('tracing off (the default): the request traceparent is stored and passed on unchanged', () => {
  const seen: SeenCall[] = [];
  let portal: NationalPortalSimulator;
  let proxy: Server;
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    portal = new NationalPortalSimulator({ password: PORTAL_PASSWORD });
    const recorded = await recordingProxy((await portal.start(0)).url, seen);
    proxy = recorded.server;
    hub = await startHubProcess({
      env: {
        LGSP_PORTAL_ENABLED: 'true',
        LGSP_PORTAL_URL: recorded.url,
        LGSP_PORTAL_PASSWORD: PORTAL_PASSWORD,
      },
    });
    token = await createCommuneClient(hub, 'tracing-off');
  });
  afterAll(async () => {
    await hub?.stop();
    await portal?.stop();
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  });

  it("stores the commune's traceparent with the event and sends it with the portal's calls for that dossier", async () => {
    const dossier = portalCode();
    const commune = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const r = await post(hub.url, token, submitted(dossier), 'application/cloudevents+json', {
      traceparent: commune,
    });
    expect(r.status).toBe(201);
    const stream = await getJson(
      `${hub.url}/v1/streams/dossier-${encodeURIComponent(dossier)}`,
      hub.adminToken,
    );
    expect((stream.body.events as { event: { traceparent?: string } }[])[0]?.event.traceparent).toBe(commune);
    await eventually(async () => (seen.some((c) => c.traceparent === commune) ? true : undefined));

    // Without a traceparent, none is made up: nothing to store, nothing sent.
    const other = portalCode();
    expect((await post(hub.url, token, submitted(other))).status).toBe(201);
    const plain = await getJson(`${hub.url}/v1/streams/dossier-${encodeURIComponent(other)}`, hub.adminToken);
    expect((plain.body.events as { event: Record<string, unknown> }[])[0]?.event).not.toHaveProperty(
      'traceparent',
    );
  });
});
