import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError, PERSON_ERASED } from '#lgsp/contracts';
import { ANY_VERSION, type EventStore, type EventToAppend } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { AuditLog, NewAuditEntry } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { ERASED, copySubject } from '../model.js';
import { PersonalDataCodec } from '../personal-data-codec.js';
import { SealingEventStore } from '../sealing-event-store.js';
import { SqlSubjectKeyStore } from '../sql-subject-key-store.js';
import { ErasureService, type ErasureSettings } from './erasure-service.js';
import { SqlErasureStore } from './sql-erasure-store.js';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const DAY = 24 * 3600_000;
const ID_A = '051190000123';
const ID_B = '051190000456';
const EXEMPT = '2.000001';

class Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
}

function submitted(code: string, idNumber: string, name: string, procedure = '1.001193'): EventToAppend {
  return {
    stream: `dossier-${code}`,
    expectedVersion: ANY_VERSION,
    id: `sub-${code}`,
    source: '/communes/21040',
    type: SUBMITTED,
    data: {
      dossierCode: code,
      procedureCode: procedure,
      agencyCode: '000.00.15.H55',
      provinceCode: '51',
      communeCode: '21040',
      channel: 'online',
      applicant: { fullName: name, idNumber, phone: '0912345678' },
      receivedAt: '2026-01-01T08:30:00+07:00',
    },
    extensions: {},
    provinceCode: '51',
    communeCode: '21040',
  };
}

describe('ErasureService', () => {
  let dir: string;
  let events: SqliteEventStore;
  let store: EventStore;
  let keys: SqlSubjectKeyStore;
  let clock: Clock;
  let audit: NewAuditEntry[];
  let failAppends: number;
  let service: ErasureService;

  async function open(settings: Partial<ErasureSettings> = {}): Promise<void> {
    const db = SqliteDatabase.open(join(dir, 'hub.db'));
    keys = await SqlSubjectKeyStore.open(db, { cacheMs: 0 });
    store = new SealingEventStore(events, new PersonalDataCodec(keys));
    const auditLog: AuditLog = {
      record: async (e) => {
        audit.push(e);
        return { ...e, id: audit.length };
      },
      list: async () => [],
    };
    const appendOnce: Pick<EventStore, 'append' | 'checkpoints'> = {
      checkpoints: store.checkpoints,
      append: async (list) => {
        if (failAppends > 0) {
          failAppends--;
          throw new Error('the store went away');
        }
        return store.append(list);
      },
    };
    service = new ErasureService({
      store: await SqlErasureStore.open(db),
      keys,
      events: appendOnce,
      stored: events,
      settings: {
        acknowledgeWorkingDays: 2,
        completeDays: 20,
        completeDaysWithThirdParties: 30,
        holidays: [],
        exemptProcedures: { [EXEMPT]: 'Luật Hộ tịch 60/2014, Điều 13: sổ hộ tịch lưu trữ vĩnh viễn' },
        retentionDays: null,
        ...settings,
      },
      thirdParties: () => true,
      audit: auditLog,
      clock,
    });
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lgsp-erasure-'));
    events = SqliteEventStore.open({ file: join(dir, 'events.db') });
    clock = new Clock(Date.parse('2026-12-04T10:00:00+07:00'));
    audit = [];
    failAppends = 0;
    await open();
  });

  afterEach(async () => {
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a request by reference and masked ID, with its deadlines, and audits it without the ID', async () => {
    await store.append([submitted('D1', ID_A, 'Nguyễn Thị Đào')]);
    const erasure = await service.request('ops', { subjectId: ID_A, note: 'thư của công dân' });
    expect(erasure).toMatchObject({
      state: 'requested',
      subjectRef: keys.ref(ID_A),
      subject: '*********123',
      requestedBy: 'ops',
      requestedAt: '2026-12-04T03:00:00.000Z',
      note: 'thư của công dân',
      deadlines: {
        acknowledgeBy: '2026-12-08T16:59:59.999Z',
        completeBy: '2027-01-03T03:00:00.000Z',
        thirdParties: true,
      },
      exemptions: [],
      overdue: { acknowledge: false, complete: false },
    });
    clock.at += 5 * DAY;
    expect((await service.get(erasure.id)).overdue).toEqual({ acknowledge: true, complete: false });
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'ops',
        action: 'erasure.request',
        subject: `erasure:${erasure.id}`,
        scope: { subjectRef: keys.ref(ID_A), subject: '*********123' },
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain(ID_A);
  });

  it('erases a person of a v2 list (a co-applicant) and only them, in v1 and v2 dossiers alike', async () => {
    const v2 = submitted('V2', ID_B, 'Lê Văn Bảy');
    const { applicant: _applicant, ...common } = v2.data as Record<string, unknown>;
    v2.type = 'vn.gov.lgsp.dossier.submitted.v2';
    v2.data = {
      ...common,
      persons: [
        { role: 'applicant', fullName: 'Lê Văn Bảy', documents: [{ kind: 'citizen-id', number: ID_B }] },
        {
          role: 'co-applicant',
          fullName: 'Nguyễn Thị Đào',
          documents: [
            { kind: 'citizen-id', number: ID_A },
            { kind: 'passport', number: 'C1234567' },
          ],
          dateOfBirth: '1990-03-14',
        },
      ],
    };
    await store.append([submitted('D1', ID_A, 'Nguyễn Thị Đào'), v2]);
    const { id } = await service.request('ops', { subjectId: ID_A });
    const erased = await service.approve('admin', id);
    expect(erased).toMatchObject({ state: 'erased', outcome: { dossiers: 2, notices: 2 } });
    const [v2Stored, notice] = await store.readStream('dossier-V2');
    expect((v2Stored!.data as { persons: unknown[] }).persons).toEqual([
      { role: 'applicant', fullName: 'Lê Văn Bảy', documents: [{ kind: 'citizen-id', number: ID_B }] },
      { role: 'co-applicant', fullName: ERASED, documents: ERASED, dateOfBirth: ERASED },
    ]);
    expect(notice).toMatchObject({ type: PERSON_ERASED, data: { roles: ['co-applicant'] } });
    expect((await store.readStream('dossier-D1'))[0]!.data).toMatchObject({
      applicant: { fullName: ERASED, idNumber: ERASED },
    });
    // A surrogate of a listed person names its place.
    await expect(service.request('ops', { subjectId: 'dossier:V2:co-applicant-1' })).resolves.toMatchObject({
      state: 'requested',
    });
  });

  it('approves: the keys destroyed, the fields erased, one person.erased per dossier, audited', async () => {
    await store.append([
      submitted('D1', ID_A, 'Nguyễn Thị Đào'),
      submitted('D2', ID_A, 'Nguyễn Thị Đào'),
      submitted('D3', ID_B, 'Lê Văn Bảy'),
    ]);
    await keys.sealingKeys([{ ref: keys.ref(copySubject('D1')) }, { ref: keys.ref(copySubject('D3')) }]);
    const { id } = await service.request('ops', { subjectId: ID_A });
    const erased = await service.approve('admin', id);
    expect(erased).toMatchObject({
      state: 'erased',
      decidedBy: 'admin',
      decidedAt: '2026-12-04T03:00:00.000Z',
      outcome: { keysDestroyed: 1, dossiers: 2, notices: 2 },
    });
    for (const code of ['D1', 'D2']) {
      const stream = await store.readStream(`dossier-${code}`);
      expect(stream[0]!.data).toMatchObject({
        applicant: { fullName: ERASED, idNumber: ERASED, phone: ERASED },
      });
      expect(stream[1]).toMatchObject({
        type: PERSON_ERASED,
        id: `erasure/${id}/${code}`,
        source: '/lgsp-hub/privacy',
        provinceCode: '51',
        communeCode: '21040',
        data: {
          dossierCode: code,
          provinceCode: '51',
          communeCode: '21040',
          subjectRef: keys.ref(ID_A),
          roles: ['applicant'],
          erasedAt: '2026-12-04T03:00:00.000Z',
          reason: 'request',
          erasureId: id,
        },
      });
    }
    expect((await store.readStream('dossier-D3'))[0]!.data).toMatchObject({
      applicant: { fullName: 'Lê Văn Bảy', idNumber: ID_B },
    });
    expect(await keys.state(keys.ref(copySubject('D1')))).toMatchObject({ keys: 1, destroyed: 1 });
    expect(await keys.state(keys.ref(copySubject('D3')))).toMatchObject({ keys: 1, destroyed: 0 });
    await expect(service.approve('admin', id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(service.refuse('admin', id, { basis: 'x' })).rejects.toMatchObject({ code: 'conflict' });
    expect(audit.map((e) => [e.action, e.outcome['refused'] ?? false])).toEqual([
      ['erasure.request', false],
      ['erasure.approve', false],
      ['erasure.approve', true],
      ['erasure.refuse', true],
    ]);
    expect(audit[1]!.outcome).toMatchObject({ state: 'erased', keysDestroyed: 1, dossiers: 2, notices: 2 });
  });

  it('finds the role of a subject by the kids of the stored values (a mother, by her ID)', async () => {
    const event = submitted('D4', ID_B, 'Lê Văn Bảy');
    (event.data as Record<string, unknown>)['civilRegistration'] = {
      registrationType: 'birth',
      person: { fullName: 'Lê Minh Đức', dateOfBirth: '2026-11-20' },
      mother: { fullName: 'Nguyễn Thị Đào', idNumber: ID_A },
    };
    await store.append([event]);
    const { id } = await service.request('ops', { subjectId: ID_A });
    await service.approve('ops', id);
    const [stored, notice] = await store.readStream('dossier-D4');
    expect(stored!.data).toMatchObject({
      applicant: { fullName: 'Lê Văn Bảy' },
      civilRegistration: { mother: { fullName: ERASED, idNumber: ERASED } },
    });
    expect(notice!.data).toMatchObject({ roles: ['mother'] });
  });

  it('is safe to retry after a crash part way: requested until every notice is in, none twice', async () => {
    await store.append([submitted('D1', ID_A, 'Nguyễn Thị Đào')]);
    const { id } = await service.request('ops', { subjectId: ID_A });
    failAppends = 1;
    await expect(service.approve('ops', id)).rejects.toThrow('the store went away');
    expect((await service.get(id)).state).toBe('requested');
    expect(await keys.state(keys.ref(ID_A))).toMatchObject({ destroyed: 1 });
    // A restarted hub (new service on the same store) approves again.
    await open();
    expect((await service.approve('ops', id)).outcome).toEqual({ keysDestroyed: 1, dossiers: 1, notices: 1 });
    const stream = await store.readStream('dossier-D1');
    expect(stream.filter((e) => e.type === PERSON_ERASED)).toHaveLength(1);
  });

  it('lists the exemption, refuses approval citing its basis, and records a refusal', async () => {
    await store.append([submitted('D5', ID_A, 'Nguyễn Thị Đào', EXEMPT)]);
    const { id, exemptions } = await service.request('ops', { subjectId: ID_A });
    expect(exemptions).toEqual([
      { procedure: EXEMPT, basis: 'Luật Hộ tịch 60/2014, Điều 13: sổ hộ tịch lưu trữ vĩnh viễn' },
    ]);
    const refused = service.approve('ops', id);
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/Luật Hộ tịch 60\/2014.*refuse it citing that basis/),
    });
    expect(await keys.state(keys.ref(ID_A))).toMatchObject({ destroyed: 0 });
    await expect(service.refuse('ops', id, { basis: ' ' })).rejects.toMatchObject({ code: 'invalid' });
    const done = await service.refuse('ops', id, {
      basis: 'Luật 91/2025 Điều 14 khoản 2',
      note: 'sổ hộ tịch',
    });
    expect(done).toMatchObject({
      state: 'refused',
      decidedBy: 'ops',
      refusal: { basis: 'Luật 91/2025 Điều 14 khoản 2', note: 'sổ hộ tịch' },
    });
    expect((await service.get(id)).refusal?.basis).toBe('Luật 91/2025 Điều 14 khoản 2');
    expect(audit.at(-1)).toMatchObject({ action: 'erasure.refuse', outcome: { state: 'refused' } });
    expect(audit.filter((e) => e.outcome['refused'] === true).map((e) => [e.action, e.scope])).toEqual([
      ['erasure.approve', { subjectRef: keys.ref(ID_A), subject: '*********123' }],
      ['erasure.refuse', { subjectRef: keys.ref(ID_A), subject: '*********123' }],
    ]);
  });

  it('refuses an unknown request and a bad subject, auditing each attempt', async () => {
    await expect(service.approve('ops', 'er_nothing')).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.request('ops', { subjectId: 'Nguyễn Thị Đào' })).rejects.toMatchObject({
      code: 'invalid',
    });
    expect(audit.map((e) => [e.action, e.subject, e.outcome['code']])).toEqual([
      ['erasure.approve', 'erasure:er_nothing', 'not-found'],
      ['erasure.request', 'erasure', 'invalid'],
    ]);
    expect(JSON.stringify(audit)).not.toContain('Đào');
  });

  it('pages the list in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.at += 1000;
      ids.push((await service.request('ops', { subjectId: `05119000010${i}` })).id);
    }
    const first = await service.list({ limit: 2 });
    expect(first.erasures.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(first.next).toBe(ids[1]);
    const second = await service.list({ limit: 2, after: first.next! });
    expect(second.erasures.map((e) => e.id)).toEqual([ids[2]]);
    expect(second.next).toBeUndefined();
  });
});
