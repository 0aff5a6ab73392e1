import { PERSON_ERASED } from '#lgsp/contracts';
import { ANY_VERSION, type AppendResult, type EventToAppend, type StoredEvent } from '#lgsp/event-store';
import { ManualClock, silentLogger } from '#lgsp/observability';
import type { NewAuditEntry } from '#lgsp/security';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { ERASED, copySubject } from '../model.js';
import { PersonalDataCodec } from '../personal-data-codec.js';
import { SqlSubjectKeyStore } from '../sql-subject-key-store.js';
import { ErasureService } from './erasure-service.js';
import { RetentionJob } from './retention-job.js';
import { SqlErasureStore } from './sql-erasure-store.js';

const DAY = 24 * 3600_000;
const ID_A = '051190000123';
const ID_B = '051190000456';
const ID_C = '051190000789';
const EXEMPT = '2.000001';
const END = '2026-01-10T09:00:00+07:00';

/** The events as a store keeps them, in memory: appended once per (source, id), sealed by the codec. */
class MemoryEvents {
  readonly rows: StoredEvent[] = [];
  private readonly positions = new Map<string, number>();
  constructor(private readonly codec: PersonalDataCodec) {}

  readonly checkpoints = {
    load: async (name: string) => this.positions.get(name) ?? 0,
    save: async (name: string, position: number) => void this.positions.set(name, position),
    list: async () => [],
  };

  async append(events: readonly EventToAppend[]): Promise<AppendResult[]> {
    const sealed = await this.codec.seal(events);
    return sealed.map(({ expectedVersion: _v, ...e }) => {
      const found = this.rows.find((r) => r.source === e.source && r.id === e.id);
      const row = found ?? {
        ...e,
        position: this.rows.length + 1,
        streamVersion: this.rows.filter((r) => r.stream === e.stream).length + 1,
        recordedAt: '2026-01-01T00:00:00.000Z',
        hash: '',
        prevHash: '',
      };
      if (!found) this.rows.push(row);
      return { ...row, duplicate: found !== undefined };
    });
  }

  async readStream(stream: string, options: { fromVersion?: number; limit?: number } = {}) {
    return this.rows
      .filter((r) => r.stream === stream && r.streamVersion >= (options.fromVersion ?? 1))
      .slice(0, options.limit ?? 1000);
  }

  async readAll(options: { after?: number; limit?: number; types?: readonly string[] } = {}) {
    return this.rows
      .filter((r) => r.position > (options.after ?? 0) && (!options.types || options.types.includes(r.type)))
      .slice(0, options.limit ?? 1000);
  }
}

const base = (code: string, type: string, id: string, data: Record<string, unknown>): EventToAppend => ({
  stream: `dossier-${code}`,
  expectedVersion: ANY_VERSION,
  id,
  source: '/communes/21040',
  type,
  data: { dossierCode: code, provinceCode: '51', communeCode: '21040', ...data },
  extensions: {},
  provinceCode: '51',
  communeCode: '21040',
});

const submitted = (code: string, idNumber: string, procedureCode = '1.001193') =>
  base(code, 'vn.gov.lgsp.dossier.submitted.v1', `sub-${code}`, {
    procedureCode,
    applicant: { fullName: `Người ${idNumber}`, idNumber },
  });

const status = (code: string, n: number, value: number, changedAt: string) =>
  base(code, 'vn.gov.lgsp.dossier.status-changed.v1', `st-${code}-${n}`, { status: value, changedAt });

async function setup(retentionDays: number | null = 30) {
  const db = SqliteDatabase.open(':memory:');
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const keys = await SqlSubjectKeyStore.open(db, { cacheMs: 0 });
  const events = new MemoryEvents(new PersonalDataCodec(keys));
  const audit: NewAuditEntry[] = [];
  const service = new ErasureService({
    store: await SqlErasureStore.open(db),
    keys,
    events,
    stored: events,
    settings: {
      acknowledgeWorkingDays: 2,
      completeDays: 20,
      completeDaysWithThirdParties: 30,
      holidays: [],
      exemptProcedures: { [EXEMPT]: 'Luật Hộ tịch 60/2014' },
      retentionDays,
    },
    thirdParties: () => false,
    audit: { record: async (e) => (audit.push(e), { ...e, id: audit.length }), list: async () => [] },
    clock,
  });
  /** The applicant's data of a dossier, as stored (sealed values opened). */
  const applicant = async (code: string) => {
    const [first] = await new PersonalDataCodec(keys).revealEvents(
      await events.readStream(`dossier-${code}`),
    );
    return (first!.data as { applicant: unknown }).applicant;
  };
  return { db, clock, keys, events, audit, service, applicant };
}

describe('retention of personal data (controlled clock)', () => {
  it('erases a subject once all its dossiers ended more than the period ago, none exempt; once only', async () => {
    const { clock, keys, events, audit, service, applicant } = await setup();
    await events.append([
      submitted('R1', ID_A),
      status('R1', 1, 10, END),
      submitted('R2', ID_B),
      status('R2', 1, 3, END),
      submitted('R3', ID_B),
      status('R3', 1, 4, END),
      submitted('R4', ID_C, EXEMPT),
      status('R4', 1, 7, END),
    ]);
    await keys.sealingKeys([{ ref: keys.ref(copySubject('R1')), stream: 'dossier-R1' }]);

    clock.skew(Date.parse(END) + 30 * DAY - clock.now());
    expect(await service.retain()).toBe(0);
    clock.skew(2);
    expect(await service.retain()).toBe(1);
    expect(await service.retain()).toBe(0);

    expect(await applicant('R1')).toEqual({ fullName: ERASED, idNumber: ERASED });
    expect(events.rows.filter((r) => r.type === PERSON_ERASED).map((r) => [r.stream, r.data])).toEqual([
      [
        'dossier-R1',
        {
          dossierCode: 'R1',
          provinceCode: '51',
          communeCode: '21040',
          subjectRef: keys.ref(ID_A),
          roles: ['applicant'],
          erasedAt: new Date(clock.now()).toISOString(),
          reason: 'retention',
        },
      ],
    ]);
    expect(await keys.state(keys.ref(copySubject('R1')))).toMatchObject({ destroyed: 1 });
    // B's R3 is still in processing; C's procedure is exempt.
    expect(await applicant('R2')).toEqual({ fullName: `Người ${ID_B}`, idNumber: ID_B });
    expect(await applicant('R4')).toEqual({ fullName: `Người ${ID_C}`, idNumber: ID_C });
    expect(audit).toEqual([
      {
        at: new Date(clock.now()).toISOString(),
        actor: 'system',
        action: 'erasure.retention',
        subject: `subject:${keys.ref(ID_A)}`,
        scope: {
          subjectRef: keys.ref(ID_A),
          retentionDays: 30,
          endedBefore: new Date(clock.now() - 30 * DAY).toISOString(),
        },
        outcome: { keysDestroyed: 1, dossiers: 1, notices: 1 },
      },
    ]);

    // R3 ends later: B goes once the period has passed since its last dossier ended.
    const later = '2026-03-01T09:00:00+07:00';
    await events.append([status('R3', 2, 10, later)]);
    expect(await service.retain()).toBe(0);
    clock.skew(Date.parse(later) + 30 * DAY + 1 - clock.now());
    expect(await service.retain()).toBe(1);
    expect(await applicant('R2')).toEqual({ fullName: ERASED, idNumber: ERASED });
    expect(await applicant('R3')).toEqual({ fullName: ERASED, idNumber: ERASED });
    expect(events.rows.filter((r) => r.type === PERSON_ERASED).map((r) => r.stream)).toEqual([
      'dossier-R1',
      'dossier-R2',
      'dossier-R3',
    ]);
  });

  it('is idempotent across replicas: a second service on the same store appends nothing twice', async () => {
    const first = await setup();
    await first.events.append([submitted('R5', ID_A), status('R5', 1, 10, END)]);
    first.clock.skew(Date.parse(END) + 31 * DAY - first.clock.now());
    const twin = new ErasureService({
      store: await SqlErasureStore.open(first.db),
      keys: first.keys,
      events: first.events,
      stored: first.events,
      settings: {
        acknowledgeWorkingDays: 2,
        completeDays: 20,
        completeDaysWithThirdParties: 30,
        holidays: [],
        exemptProcedures: {},
        retentionDays: 30,
      },
      thirdParties: () => false,
      clock: first.clock,
    });
    const [a, b] = await Promise.all([first.service.retain(), twin.retain()]);
    expect(a + b).toBeGreaterThanOrEqual(1);
    expect(first.events.rows.filter((r) => r.type === PERSON_ERASED)).toHaveLength(1);
    expect(await first.applicant('R5')).toEqual({ fullName: ERASED, idNumber: ERASED });
  });

  it('keeps a dossier reopened after its end, and does nothing when the retention is off', async () => {
    const on = await setup();
    await on.events.append([
      submitted('R6', ID_A),
      status('R6', 1, 10, END),
      status('R6', 2, 4, '2026-01-11T09:00:00+07:00'),
    ]);
    on.clock.skew(Date.parse(END) + 365 * DAY - on.clock.now());
    expect(await on.service.retain()).toBe(0);
    expect(await on.applicant('R6')).toEqual({ fullName: `Người ${ID_A}`, idNumber: ID_A });

    const off = await setup(null);
    await off.events.append([submitted('R7', ID_A), status('R7', 1, 10, END)]);
    off.clock.skew(Date.parse(END) + 3650 * DAY - off.clock.now());
    expect(await off.service.retain()).toBe(0);
    expect(await off.keys.state(off.keys.ref(ID_A))).toMatchObject({ destroyed: 0 });
  });

  it('runs a pass at start and then every period until stopped, a failed pass retried at the next', async () => {
    const clock = new ManualClock(0);
    const passes: number[] = [];
    const errors: string[] = [];
    const job = new RetentionJob(
      {
        retain: async () => {
          passes.push(clock.now());
          if (passes.length === 2) throw new Error('the store went away');
          return 0;
        },
      },
      60_000,
      { ...silentLogger, error: (fields: object) => void errors.push(JSON.stringify(fields)) },
      clock,
    );
    job.start();
    await clock.advance(0);
    expect(passes).toEqual([0]);
    await clock.advance(60_000);
    await clock.advance(60_000);
    expect(passes).toEqual([0, 60_000, 120_000]);
    expect(errors).toEqual([JSON.stringify({ err: 'the store went away' })]);
    await job.stop();
    await clock.advance(600_000);
    expect(passes).toHaveLength(3);
  });
});
