import { randomUUID } from 'node:crypto';
import { DomainError, EventValidator, exampleEvent, type CloudEvent } from '#lgsp/contracts';
import {
  ANY_VERSION,
  WrongExpectedVersionError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ReadStreamOptions,
  type SourceId,
  type StoredEvent,
  type VersionConflict,
} from '#lgsp/event-store';
import { IngestService, type IngestObserver } from '#lgsp/ingest';
import { BINH_SON, IN_79, TINH_KY, communeClient, eventOf, transferTo79 } from './ingest.testing.js';
import type { Client, CommuneDirectory } from '#lgsp/security';

/**
 * Records what ingest hands to the store, and answers as a store would (versions per stream, duplicates
 * on (source, id), all or nothing); the real stores are tested in ingest.service.int.spec.ts.
 */
class RecordingStore {
  readonly appended: EventToAppend[][] = [];
  readonly rows: (AppendResult & { event: EventToAppend })[] = [];
  async append(events: readonly EventToAppend[]): Promise<AppendResult[]> {
    this.appended.push([...events]);
    const versions = new Map<string, number>();
    const version = (s: string) => versions.get(s) ?? this.rows.filter((r) => r.stream === s).length;
    const out: AppendResult[] = [];
    const conflicts: VersionConflict[] = [];
    for (const [index, e] of events.entries()) {
      const stored = this.stored(e);
      if (stored) {
        out.push(stored);
        continue;
      }
      const actual = version(e.stream);
      if (e.expectedVersion !== ANY_VERSION && e.expectedVersion !== actual) {
        conflicts.push({ index, stream: e.stream, expected: e.expectedVersion, actual });
      }
      versions.set(e.stream, actual + 1);
      out.push({
        id: e.id,
        source: e.source,
        stream: e.stream,
        streamVersion: actual + 1,
        position: 0,
        duplicate: false,
      });
    }
    if (conflicts.length > 0) throw new WrongExpectedVersionError(conflicts);
    out.forEach((r, i) => {
      if (r.duplicate) return;
      r.position = this.rows.length + 1;
      this.rows.push({ ...r, event: events[i]! });
    });
    return out;
  }
  async findStored(keys: readonly SourceId[]): Promise<(AppendResult | undefined)[]> {
    return keys.map((k) => this.stored(k));
  }
  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    return this.rows
      .filter((r) => r.stream === stream && r.streamVersion >= (options.fromVersion ?? 1))
      .map((r) => ({
        ...r.event,
        position: r.position,
        streamVersion: r.streamVersion,
        recordedAt: '',
        hash: '',
        prevHash: '',
      }));
  }
  private stored(k: SourceId): AppendResult | undefined {
    const r = this.rows.find((row) => row.source === k.source && row.id === k.id);
    return (
      r && {
        id: r.id,
        source: r.source,
        stream: r.stream,
        streamVersion: r.streamVersion,
        position: r.position,
        duplicate: true,
      }
    );
  }
}

const commune: Client = {
  id: 'c',
  name: 'binh-son',
  role: 'commune',
  provinceCode: '51',
  communeCodes: ['21040'],
  sources: [],
  createdAt: '',
};

function setup() {
  const store = new RecordingStore();
  const seen: string[] = [];
  const observer: IngestObserver = {
    appended: (type) => seen.push(`appended ${type}`),
    duplicate: (type) => seen.push(`duplicate ${type}`),
    rejected: (type, code) => seen.push(`rejected ${type} ${code}`),
  };
  const service = new IngestService(store as unknown as EventStore, new EventValidator(), { observer });
  return { store, service, seen };
}

const submittedEvent = (): CloudEvent => exampleEvent('vn.gov.lgsp.dossier.submitted.v1', randomUUID());

describe('IngestService', () => {
  it('appends NFC text to the dossier stream, keeps extensions, and turns expectedversion into a condition', async () => {
    const { store, service } = setup();
    const event = {
      ...submittedEvent(),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      expectedversion: '0',
    };
    (event.data as { applicant: { fullName: string } }).applicant.fullName = 'Nguyễn Thị Hoà'.normalize(
      'NFD',
    );
    const outcome = await service.ingest(commune, [event], true);

    expect(outcome.status).toBe(201);
    const [appended] = store.appended[0]!;
    const data = appended!.data as { dossierCode: string; applicant: { fullName: string } };
    expect(appended).toMatchObject({
      stream: `dossier-${data.dossierCode}`,
      expectedVersion: 0,
      provinceCode: '51',
      communeCode: '21040',
      extensions: { traceparent: event.traceparent },
    });
    expect(appended!.extensions).not.toHaveProperty('expectedversion');
    expect(data.applicant.fullName).toBe('Nguyễn Thị Hoà'.normalize('NFC'));
  });

  it("stores the request's traceparent with each event that carries none, and keeps an event's own", async () => {
    const { store, service } = setup();
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const request = '00-11111111111111111111111111111111-2222222222222222-01';
    await service.ingest(commune, [submittedEvent(), { ...submittedEvent(), traceparent: own }], false, {
      traceparent: request,
    });
    expect(store.appended[0]!.map((a) => a.extensions['traceparent'])).toEqual([request, own]);
    // Without a request context nothing is added.
    await service.ingest(commune, [submittedEvent()], true);
    expect(store.appended[1]![0]!.extensions).not.toHaveProperty('traceparent');
  });

  it('answers 200 when every event was already stored, and counts each outcome', async () => {
    const { service, seen } = setup();
    const event = submittedEvent();
    expect((await service.ingest(commune, [event], true)).status).toBe(201);
    const outcome = await service.ingest(commune, [event], true);
    expect(outcome.status).toBe(200);
    expect(outcome.results[0]!.duplicate).toBe(true);
    expect(seen).toEqual([`appended ${event.type}`, `duplicate ${event.type}`]);
  });

  it('appends nothing when one event of a batch violates its schema, pointing at it', async () => {
    const { store, service, seen } = setup();
    const bad = submittedEvent();
    (bad.data as { communeCode: string }).communeCode = '2104';
    const error = await service.ingest(commune, [submittedEvent(), bad], false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid');
    expect((error as DomainError).issues.map((i) => i.pointer)).toContain('/1/data/communeCode');
    expect(store.appended).toEqual([]);
    expect(seen).toEqual([`rejected ${bad.type} invalid`, `rejected ${bad.type} invalid`]);
  });

  it('appends nothing when an event is outside the client scope', async () => {
    const { store, service } = setup();
    const other = submittedEvent();
    (other.data as { communeCode: string }).communeCode = '21025';
    const error = (await service.ingest(commune, [other], true).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('forbidden');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/data/communeCode']);
    expect(store.appended).toEqual([]);
  });

  it('refuses a type only the hub emits (person.erased), from any client, appending nothing', async () => {
    const { store, service } = setup();
    const erased = exampleEvent('vn.gov.lgsp.person.erased.v1', randomUUID());
    for (const client of [commune, { ...commune, role: 'admin' as const }]) {
      const error = (await service
        .ingest(client, [submittedEvent(), erased], false)
        .catch((e: unknown) => e)) as DomainError;
      expect(error.code).toBe('invalid');
      expect(error.issues).toEqual([
        {
          pointer: '/1/type',
          message: 'vn.gov.lgsp.person.erased.v1 is emitted by the hub only: clients cannot send it',
        },
      ]);
    }
    const single = (await service.ingest(commune, [erased], true).catch((e: unknown) => e)) as DomainError;
    expect(single.issues.map((i) => i.pointer)).toEqual(['/type']);
    expect(store.appended).toEqual([]);
  });

  it('pins each append to the stream version its ownership was checked at', async () => {
    const { store, service } = setup();
    const first = submittedEvent();
    await service.ingest(commune, [first], true);
    await service.ingest(commune, [statusOf(first, 2)], true);
    expect(store.appended.map((call) => call.map((e) => e.expectedVersion))).toEqual([[0], [1]]);
    expect(store.appended.flat().some((e) => e.expectedVersion === ANY_VERSION)).toBe(false);
  });
});

/** Another dossier code per test, so that streams never meet across tests. */
let dossiers = 0;
const dossierCode = () => `000.00.15.H55-250701-${String(++dossiers).padStart(4, '0')}`;

const statusOf = (submitted: CloudEvent, status: number): CloudEvent => {
  const { provinceCode, communeCode, dossierCode: code } = submitted.data as Record<string, string>;
  return eventOf(
    'vn.gov.lgsp.dossier.status-changed.v1',
    { provinceCode: provinceCode!, communeCode: communeCode! },
    code!,
    { status },
  );
};

const provinceClient = (code: string): Client => ({
  id: `p${code}`,
  name: `p${code}`,
  role: 'province',
  provinceCode: code,
  communeCodes: [],
  sources: [],
  createdAt: '',
});
const ADMIN: Client = { ...provinceClient('00'), id: 'admin', name: 'admin', role: 'admin' };
const units: CommuneDirectory = {
  provinceOfCommune: (c) => ({ '21040': '51', '21025': '51', '26734': '79' })[c],
};

function owned() {
  const store = new RecordingStore();
  const service = new IngestService(store as unknown as EventStore, new EventValidator(), { units });
  const refusal = (client: Client, events: CloudEvent[], single = events.length === 1) =>
    service.ingest(client, events, single).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as DomainError,
    );
  return { store, service, refusal };
}

describe('IngestService: a dossier stream belongs to the commune of its first event', () => {
  const binhSon = communeClient('binh-son', BINH_SON);
  const tinhKy = communeClient('tinh-ky', TINH_KY);
  const in79 = communeClient('in-79', IN_79);

  it('refuses a status change, or a second submission, from a commune of another province naming itself', async () => {
    const { store, service, refusal } = owned();
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    const rows = store.rows.length;
    for (const type of [
      'vn.gov.lgsp.dossier.status-changed.v1',
      'vn.gov.lgsp.dossier.submitted.v1',
    ] as const) {
      const error = await refusal(in79, [eventOf(type, IN_79, code)]);
      expect(error.code).toBe('forbidden');
      expect(error.issues).toEqual([
        { pointer: '/data/dossierCode', message: 'the dossier is outside the client scope' },
      ]);
      // Nothing names the owner, its version or its province.
      expect(JSON.stringify(error)).not.toMatch(/21040|version|"51"/);
    }
    expect(store.rows).toHaveLength(rows);
  });

  it('reads a stream it does not know from `ownersFrom` (the log as stored), not from the store it appends to', async () => {
    const stored = new RecordingStore();
    const service = new IngestService(stored as unknown as EventStore, new EventValidator(), { units });
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    const read: string[] = [];
    const opening = {
      ...stored,
      readStream: () => Promise.reject(new Error('ownership opened the stream')),
    };
    const asStored = {
      readStream: (stream: string, options?: ReadStreamOptions) => {
        read.push(stream);
        return stored.readStream(stream, options);
      },
    };
    const fresh = new IngestService(opening as unknown as EventStore, new EventValidator(), {
      units,
      ownersFrom: asStored,
    });
    expect(await fresh.owners.refresh(`dossier-${code}`)).toMatchObject({
      version: 1,
      owner: { communeCode: BINH_SON.communeCode },
    });
    expect(read).toEqual([`dossier-${code}`]);
  });

  it('answers a foreign stream with 403, never with a 409 naming its version, whatever expectedversion says', async () => {
    const { service, refusal } = owned();
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    for (const expectedversion of [0, 1, 7]) {
      const error = await refusal(tinhKy, [
        {
          ...eventOf('vn.gov.lgsp.dossier.status-changed.v1', TINH_KY, code, { status: 2 }),
          expectedversion,
        },
      ]);
      expect(error.code).toBe('forbidden');
    }
  });

  it('answers the owner a 409 with the version when its own expectedversion is wrong, appending nothing', async () => {
    const { store, service, refusal } = owned();
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    for (const expectedversion of [0, 2]) {
      const error = await refusal(binhSon, [
        {
          ...eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code, { status: 2 }),
          expectedversion,
        },
      ]);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).conflicts).toEqual([
        { index: 0, stream: `dossier-${code}`, expected: expectedversion, actual: 1 },
      ]);
    }
    expect(store.rows).toHaveLength(1);
  });

  it('lets the province of the owner write, but only events naming the owner commune', async () => {
    const { store, service, refusal } = owned();
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    const p51 = provinceClient('51');
    expect(
      (await service.ingest(p51, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code)], true))
        .status,
    ).toBe(201);
    const error = await refusal(p51, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', TINH_KY, code)]);
    expect(error.code).toBe('invalid');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/data/communeCode']);
    expect(
      (await refusal(provinceClient('79'), [eventOf('vn.gov.lgsp.dossier.status-changed.v1', IN_79, code)]))
        .code,
    ).toBe('forbidden');
    expect(store.rows).toHaveLength(2);
  });

  it('moves the stream to the commune a transfer names: the receiver writes, the sender no longer does', async () => {
    const { service, refusal } = owned();
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    const transfer = transferTo79(code);
    expect((await service.ingest(binhSon, [transfer], true)).status).toBe(201);
    expect(
      (await refusal(binhSon, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code)])).code,
    ).toBe('forbidden');
    expect(
      (await service.ingest(in79, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', IN_79, code)], true))
        .status,
    ).toBe(201);
    expect(await service.owners.refresh(`dossier-${code}`)).toEqual({ version: 3, owner: IN_79 });
  });

  it('checks a batch along its order: a submission then its changes in one request, and a transfer mid-batch', async () => {
    const { store, service, refusal } = owned();
    const code = dossierCode();
    const batch = [
      eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code),
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code),
      eventOf('vn.gov.lgsp.dossier.transferred.v1', BINH_SON, code, {
        toProvinceCode: '51',
        toCommuneCode: '21025',
      }),
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code),
    ];
    const error = await refusal(binhSon, batch, false);
    expect(error.code).toBe('forbidden');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/3/data/dossierCode']);
    expect(store.rows).toHaveLength(0);
    const results = (await service.ingest(binhSon, batch.slice(0, 3), false)).results;
    expect(results.map((r) => r.stream !== undefined && r.streamVersion)).toEqual([1, 2, 3]);
  });

  it('appends the new events of a batch that re-sends stored ones, each at its exact version', async () => {
    const { store, service } = owned();
    const code = dossierCode();
    const first = [
      eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code),
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code),
    ];
    await service.ingest(binhSon, first, false);
    const more = [
      ...first,
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code),
      eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code),
    ];
    const outcome = await service.ingest(binhSon, more, false);
    expect(outcome.results.map((r) => [r.duplicate, r.stream !== undefined && r.streamVersion])).toEqual([
      [true, 1],
      [true, 2],
      [false, 3],
      [false, 4],
    ]);
    expect(store.rows.map((r) => r.streamVersion)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a source the client is not bound to, so no one can claim another commune's (source, id)", async () => {
    const { store, service, refusal } = owned();
    const code = dossierCode();
    const real = eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code);
    const squat = {
      ...eventOf('vn.gov.lgsp.dossier.submitted.v1', IN_79, dossierCode()),
      id: real.id,
      source: real.source,
    };
    const error = await refusal(in79, [squat]);
    expect(error.code).toBe('forbidden');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/source']);
    expect(store.rows).toHaveLength(0);
    const outcome = await service.ingest(binhSon, [real], true);
    expect(outcome.status).toBe(201);
    expect(outcome.results[0]!.duplicate).toBe(false);
  });

  it('answers a duplicate stored in a stream now outside the scope without its place', async () => {
    const { service } = owned();
    const code = dossierCode();
    const submitted = eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code);
    await service.ingest(binhSon, [submitted], true);
    await service.ingest(binhSon, [transferTo79(code)], true);
    const again = await service.ingest(binhSon, [submitted], true);
    expect(again).toEqual({
      status: 200,
      results: [{ id: submitted.id, source: submitted.source, duplicate: true }],
    });
    const admin = await service.ingest(ADMIN, [submitted], true);
    expect(admin.results[0]).toMatchObject({
      stream: `dossier-${code}`,
      streamVersion: 1,
      position: expect.any(Number),
    });
  });

  it('checks ownership again when another writer changed the stream since it was cached', async () => {
    const { store, service, refusal } = owned();
    const other = new IngestService(store as unknown as EventStore, new EventValidator(), { units });
    const code = dossierCode();
    await service.ingest(binhSon, [eventOf('vn.gov.lgsp.dossier.submitted.v1', BINH_SON, code)], true);
    // `other` (another hub process) transfers the dossier away; `service` still holds version 1.
    await other.ingest(binhSon, [transferTo79(code)], true);
    const error = await refusal(binhSon, [eventOf('vn.gov.lgsp.dossier.status-changed.v1', BINH_SON, code)]);
    expect(error.code).toBe('forbidden');
    expect(store.rows).toHaveLength(2);
    // The append it tried first was pinned to version 1 and conflicted: nothing went in at version 3.
    expect(store.appended.at(-1)![0]!.expectedVersion).toBe(1);
  });
});
