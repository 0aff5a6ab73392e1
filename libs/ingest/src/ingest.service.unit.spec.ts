import { randomUUID } from 'node:crypto';
import { DomainError, EventValidator, exampleEvent, type CloudEvent } from '#lgsp/contracts';
import { ANY_VERSION, type AppendResult, type EventStore, type EventToAppend } from '#lgsp/event-store';
import { IngestService, type IngestObserver } from '#lgsp/ingest';
import type { Client } from '#lgsp/security';

/** Records what ingest hands to the store; the store's own behaviour is tested against SQLite. */
class RecordingStore {
  readonly appended: EventToAppend[][] = [];
  duplicateIds = new Set<string>();
  async append(events: readonly EventToAppend[]): Promise<AppendResult[]> {
    this.appended.push([...events]);
    return events.map((e, i) => ({
      id: e.id,
      source: e.source,
      stream: e.stream,
      streamVersion: i + 1,
      position: i + 1,
      duplicate: this.duplicateIds.has(e.id),
    }));
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
  const service = new IngestService(store as unknown as EventStore, new EventValidator(), observer);
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

  it('answers 200 when every event was already stored, and counts each outcome', async () => {
    const { store, service, seen } = setup();
    const event = submittedEvent();
    store.duplicateIds.add(event.id);
    const outcome = await service.ingest(commune, [event], true);
    expect(outcome.status).toBe(200);
    expect(outcome.results[0]!.duplicate).toBe(true);
    expect(seen).toEqual([`duplicate ${event.type}`]);
    expect((await service.ingest(commune, [submittedEvent()], true)).status).toBe(201);
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

  it('appends unconditionally without expectedversion', async () => {
    const { store, service } = setup();
    await service.ingest(commune, [submittedEvent()], true);
    expect(store.appended[0]![0]!.expectedVersion).toBe(ANY_VERSION);
  });
});
