import { randomBytes, randomInt } from 'node:crypto';
import { post, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { POSTGRES_URL, dropSchema, schemaName } from '../support/postgres.js';

/**
 * PostgreSQL spans (`@opentelemetry/instrumentation-pg`) of a hub process on `store: postgres`,
 * exporting OTLP/HTTP JSON to a local receiver: the statements of a commune's `POST /v1/events` are
 * spans inside the request's trace, with their text (placeholders) and never their values.
 */

const SERVER = 2;
const CLIENT = 3;

describe('tracing on PostgreSQL (hub process, store postgres, OTLP/HTTP JSON to a local receiver)', () => {
  const receiver = new OtlpReceiver();
  const schema = schemaName('trace');
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    hub = await startHubProcess({
      dataDir: tempDir('lgsp-tracing-pg-e2e-'),
      env: {
        LGSP_STORE: POSTGRES_URL,
        LGSP_POSTGRES_SCHEMA: schema,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'lgsp-hub-e2e-pg',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    token = await createCommuneClient(hub, 'tracing-pg');
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver.stop();
    await dropSchema(schema);
  });

  it("puts the append's SQL statements, without their values, in the trace of the ingest request", async () => {
    const dossier = `000.00.51.H56-251125-${String(randomInt(100_000, 999_999))}`;
    const event = submitted(dossier);
    const { fullName, idNumber } = (event.data as { applicant: { fullName: string; idNumber: string } })
      .applicant;
    const traceId = randomBytes(16).toString('hex');
    const commune = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const r = await post(hub.url, token, event, 'application/cloudevents+json', { traceparent: commune });
    expect(r.status).toBe(201);

    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId);
    const ingest = await eventually(async () =>
      inTrace().find((s) => s.name === 'POST /v1/events' && s.kind === SERVER),
    );
    // The statement that stored the event (the event store's INSERT INTO events), a descendant of the
    // request's span.
    const insert = await eventually(async () =>
      inTrace().find(
        (s) =>
          s.attributes['db.system.name'] === 'postgresql' &&
          /\bINSERT INTO events\b/.test(String(s.attributes['db.query.text'] ?? '')),
      ),
    );
    expect(insert.kind).toBe(CLIENT);
    const byId = new Map(inTrace().map((s) => [s.spanId, s]));
    const ancestors: string[] = [];
    for (let s: ReceivedSpan | undefined = insert; s !== undefined; s = byId.get(s.parentSpanId ?? '')) {
      ancestors.push(s.spanId);
    }
    expect(ancestors).toContain(ingest.spanId);
    expect(insert.attributes['db.namespace']).toBe(new URL(POSTGRES_URL).pathname.slice(1));
    // Placeholders stand for the values.
    expect(String(insert.attributes['db.query.text'])).toMatch(/\$1\b/);

    // No value of the event in any PostgreSQL span of the trace: not the dossier code, the applicant's
    // name or ID number, nor the event's id; no attribute carrying the statements' parameters.
    const pgSpans = inTrace().filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(pgSpans.length).toBeGreaterThan(0);
    for (const s of pgSpans) {
      expect(Object.keys(s.attributes).filter((k) => /values|param/i.test(k))).toEqual([]);
      const text = JSON.stringify({ name: s.name, attributes: s.attributes });
      for (const value of [dossier, fullName, idNumber, String(event.id), 'H56-251125']) {
        expect([s.name, text.includes(value)]).toEqual([s.name, false]);
      }
      expect(text).not.toMatch(/\d{9,12}/);
    }
  }, 60_000);
});
