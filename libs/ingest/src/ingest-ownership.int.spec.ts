import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError, EventValidator } from '#lgsp/contracts';
import { type EventStore } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { PostgresEventStore } from '#lgsp/event-store/postgres';
import { IngestService } from '#lgsp/ingest';
import { BINH_SON, IN_79, communeClient, eventOf, transferTo79 } from './ingest.testing.js';
import type { CommuneDirectory } from '#lgsp/security';
import { tempDir } from '../../../test/support/hub-process.js';
import { POSTGRES_URL, dropSchema, schemaName } from '../../../test/support/postgres.js';

const units: CommuneDirectory = { provinceOfCommune: (c) => ({ '21040': '51', '26734': '79' })[c] };
const binhSon = communeClient('binh-son', BINH_SON);
const in79 = communeClient('in-79', IN_79);

/** Two hub processes on one store: each has its own IngestService (and its own ownership cache). */
interface Replicas {
  stores: EventStore[];
  close(): Promise<void>;
}

const backends: [string, () => Promise<Replicas>][] = [
  [
    'sqlite',
    async () => {
      const dir = tempDir('lgsp-own-');
      // One embedded store per process; two services on it still race at every await.
      const store = SqliteEventStore.open({ file: join(dir, 'events.db') });
      return {
        stores: [store, store],
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'postgres',
    async () => {
      const schema = schemaName('own');
      const open = () => PostgresEventStore.open({ connectionString: POSTGRES_URL, schema, poolSize: 4 });
      const stores = [await open(), await open()];
      return {
        stores,
        async close() {
          for (const s of stores) await s.close();
          await dropSchema(schema);
        },
      };
    },
  ],
];

describe.each(backends)('ingest ownership on %s, two writers', (_name, open) => {
  let replicas: Replicas;
  let services: IngestService[];
  beforeEach(async () => {
    replicas = await open();
    services = replicas.stores.map((s) => new IngestService(s, new EventValidator(), { units }));
  });
  afterEach(async () => {
    await replicas.close();
  });

  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof DomainError ? e.code : String(e)),
    );

  it('lets one of two communes of different provinces racing for a new dossier own it; the other writes nothing there', async () => {
    const codes = Array.from({ length: 30 }, (_, i) => `000.00.51.H56-251206-${String(i).padStart(4, '0')}`);
    const results = await Promise.all(
      codes.flatMap((code) => [
        outcome(
          services[0]!.ingest(
            binhSon,
            [
              eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code),
              eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status: 2 }),
            ],
            false,
          ),
        ),
        outcome(services[1]!.ingest(in79, [eventOf('vn.gov.lgsp.dossier.submitted.v1', IN_79, code)], true)),
        outcome(
          services[1]!.ingest(in79, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', IN_79, code)], true),
        ),
      ]),
    );
    expect(results.every((r) => r === 'ok' || r === 'forbidden')).toBe(true);
    for (const code of codes) {
      const events = await replicas.stores[0]!.readStream(`dossier-${code}`);
      expect(events.length).toBeGreaterThan(0);
      const owner = events[0]!.communeCode;
      expect(events.map((e) => e.communeCode)).toEqual(events.map(() => owner));
      expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    }
  });

  it('never writes after a transfer that another writer committed, whatever it had cached', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `000.00.51.H56-251207-${String(i).padStart(4, '0')}`);
    for (const code of codes) {
      await services[0]!.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
      // Both writers have the dossier cached as Bình Sơn's at version 1.
      await services[1]!.owners.known(`dossier-${code}`);
    }
    await Promise.all(
      codes.flatMap((code) => [
        outcome(services[0]!.ingest(binhSon, [transferTo79(code)], true)),
        ...[2, 4, 5].map((status) =>
          outcome(
            services[1]!.ingest(
              binhSon,
              [eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status })],
              true,
            ),
          ),
        ),
      ]),
    );
    for (const code of codes) {
      const events = await replicas.stores[0]!.readStream(`dossier-${code}`);
      const transfer = events.findIndex((e) => e.type === 'vn.gov.lgsp.dossier.transferred.v1');
      expect(transfer).toBeGreaterThan(0);
      // After the transfer nothing of Bình Sơn's: it no longer owns the dossier.
      expect(events.slice(transfer + 1)).toEqual([]);
    }
  });

  it('appends a batch that re-sends stored events and adds new ones, at exact versions', async () => {
    const code = '000.00.51.H56-251208-0001';
    const first = [
      eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code),
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status: 2 }),
    ];
    await services[0]!.ingest(binhSon, first, false);
    const more = [
      first[1]!,
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status: 4 }),
      first[0]!,
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status: 9 }),
    ];
    const { status, results } = await services[1]!.ingest(binhSon, more, false);
    expect(status).toBe(201);
    expect(results.map((r) => [r.duplicate, r.stream === undefined ? undefined : r.streamVersion])).toEqual([
      [true, 2],
      [false, 3],
      [true, 1],
      [false, 4],
    ]);
    const stored = await replicas.stores[0]!.readStream(`dossier-${code}`);
    expect(stored.map((e) => (e.data as { status?: number }).status ?? 'submitted')).toEqual([
      'submitted',
      2,
      4,
      9,
    ]);
  });
});
