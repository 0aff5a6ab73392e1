import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { SubscriptionRunner } from '#lgsp/subscriptions';
import { NationalPortalSimulator, parseFaultConfig } from '#lgsp/simulators';
import { CircuitBreaker } from '../core/circuit-breaker.js';
import { SqlParkingStore } from '../core/parking/sql-parking-store.js';
import { PortalClient } from './portal-client.js';
import { PortalSyncConnector } from './portal-sync-connector.js';
import { SqliteDatabase } from '#lgsp/storage/sqlite';

const PROVINCE = '51';
const COMMUNE = '21040';
const AGENCY = '000.00.51.H56';
const HANDLER = { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' };

let dir: string;
let store: SqliteEventStore;
let sim: NationalPortalSimulator;
let url: string;
let skewMs = 0;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portal-sync-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  sim = new NationalPortalSimulator({ sessionTtlMs: 60_000, clock: { now: () => Date.now() + skewMs } });
  ({ url } = await sim.start());
});

afterAll(async () => {
  await sim.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.reset();
  skewMs = 0;
});

/** A fresh dossier code per test, so tests sharing the store never meet. */
function newCode(): string {
  counter++;
  return `${AGENCY}-251123-${String(counter).padStart(4, '0')}${randomUUID().replace(/\D/g, '').slice(0, 2).padEnd(2, '0')}`;
}

const common = (code: string) => ({ dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE });

async function append(stream: string, type: string, data: Record<string, unknown>): Promise<void> {
  await store.append([
    {
      stream,
      expectedVersion: 'any',
      id: randomUUID(),
      source: `/communes/${COMMUNE}/one-stop-shop`,
      type,
      time: new Date().toISOString(),
      data,
      extensions: {},
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
    },
  ]);
}

const submit = (code: string, overrides: Record<string, unknown> = {}) =>
  append(`dossier-${code}`, 'vn.gov.lgsp.dossier.submitted.v1', {
    ...common(code),
    procedureCode: '1.001193',
    procedureName: 'Đăng ký khai sinh',
    agencyCode: AGENCY,
    channel: 'online',
    applicant: { fullName: 'Nguyễn Thị Hoà'.normalize('NFD'), idNumber: '051190001234' },
    receivedAt: '2025-11-23T16:59:30Z',
    dueAt: '2025-11-26T10:00:00Z',
    summary: 'Đăng ký khai sinh cho con',
    fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000 }],
    ...overrides,
  });

const changeStatus = (code: string, status: number, changedAt: string) =>
  append(`dossier-${code}`, 'vn.gov.lgsp.dossier.status-changed.v1', {
    ...common(code),
    status,
    changedAt,
    handler: HANDLER,
  });

/** The lifecycle of one dossier up to "result returned": four events. */
async function lifecycle(code: string): Promise<void> {
  await submit(code);
  await changeStatus(code, 2, '2025-11-23T17:05:00Z');
  await changeStatus(code, 4, '2025-11-24T02:00:00Z');
  await changeStatus(code, 10, '2025-11-25T09:30:00Z');
}

/** What the portal must hold for a dossier of {@link lifecycle}. */
const expectedDossier = (code: string) => ({
  MaHoSo: code,
  MaTTHC: '1.001193',
  TenTTHC: 'Đăng ký khai sinh',
  KenhThucHien: 2,
  ChuHoSo: 'Nguyễn Thị Hoà'.normalize('NFC'),
  SoGiayToChuHoSo: '051190001234',
  DinhDanhCHS: [{ LoaiDinhDanh: 1, SoDinhDanh: '051190001234' }],
  TrichYeuHoSo: 'Đăng ký khai sinh cho con',
  NgayTiepNhan: '20251123235930',
  NgayHenTra: '20251126170000',
  NgayTra: '20251125163000',
  TrangThaiHoSo: 10,
  // Gia as a string of digits, as the real clients send it.
  DanhSachLePhi: [{ MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí hộ tịch', Gia: '50000' }],
  DanhSachGiayToKetQua: [],
  MaDonVi: COMMUNE,
  // The procedure's field from the portal's catalogue (LayThuTuc): the event carries none.
  MaLinhVuc: 'G09-TP01',
  TenLinhVuc: 'Hộ tịch',
  // The defaults for what the event lacks; the agency that received it handles it.
  LoaiDoiTuong: '1',
  HinhThuc: '0',
  DonViXuLy: AGENCY,
  Email: 'no-reply@lgsp-hub.invalid',
  SoDienThoai: '0000000000',
  NoiNopHoSo: '2',
  NgayNopHoSo: '20251123235930',
  TienDo: [
    [2, '20251124000500', '20251123235930'],
    [4, '20251124090000', '20251124000500'],
    [10, '20251125163000', '20251124090000'],
  ].map(([status, at, startedAt]) => ({
    MaHoSo: code,
    NguoiXuLy: HANDLER.name,
    ChucDanh: HANDLER.title,
    ThoiDiemXuLy: at,
    PhongBanXuLy: HANDLER.department,
    TrangThai: status,
    // The step began with the previous change (the submission for the first).
    NgayBatDau: startedAt,
  })),
});

/** The dossiers of `codes`, in that order, as `GET /_sim/state` shows them. */
async function portalState(codes: readonly string[]): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/_sim/state`);
  const state = (await res.json()) as { dossiers: Record<string, unknown>[] };
  return codes.flatMap((c) => state.dossiers.filter((d) => d.MaHoSo === c));
}

async function eventsOf(codes: readonly string[]): Promise<StoredEvent[]> {
  const all = await store.readAll({ limit: 100_000 });
  return all.filter((e) => codes.some((c) => e.stream === `dossier-${c}`));
}

function connector(
  options: { parking?: SqlParkingStore; maxAttempts?: number; client?: PortalClient } = {},
): { connector: PortalSyncConnector; parking: SqlParkingStore; breaker: CircuitBreaker } {
  const parking = options.parking ?? new SqlParkingStore(SqliteDatabase.open(':memory:'));
  const breaker = new CircuitBreaker('portal', { coolDownMs: 200, failureThreshold: 5 });
  const client =
    options.client ?? new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 });
  return {
    connector: new PortalSyncConnector({
      events: store,
      client,
      parking,
      breaker,
      retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: options.maxAttempts ?? 6 },
    }),
    parking,
    breaker,
  };
}

describe('PortalSyncConnector with the portal simulator', () => {
  it('syncs the projected state of several dossiers with the portal’s exact fields', async () => {
    const codes = [newCode(), newCode(), newCode()];
    for (const code of codes) await lifecycle(code);
    const { connector: c, parking } = connector();

    const outcomes = await c.deliver(await eventsOf(codes));

    expect(outcomes.map((o) => [o.dossier, o.status])).toEqual(codes.map((code) => [code, 'delivered']));
    expect(await portalState(codes)).toEqual(codes.map(expectedDossier));
    expect(await parking.list({ limit: 10 })).toEqual([]);
  });

  it('reads a v2 submission (persons) and a v1 one alike, sending every ID of the applicant', async () => {
    const [v1, v2] = [newCode(), newCode()];
    await lifecycle(v1);
    await append(`dossier-${v2}`, 'vn.gov.lgsp.dossier.submitted.v2', {
      ...common(v2),
      procedureCode: '1.001193',
      procedureName: 'Đăng ký khai sinh',
      agencyCode: AGENCY,
      channel: 'online',
      persons: [
        {
          role: 'applicant',
          fullName: 'Nguyễn Thị Hoà',
          documents: [
            { kind: 'citizen-id', number: '051190001234' },
            { kind: 'legacy-id', number: '123456789' },
            { kind: 'vneid', number: '051190001234', level: 2 },
          ],
        },
        {
          role: 'co-applicant',
          fullName: 'Lê Văn Nam',
          documents: [{ kind: 'passport', number: 'C1234567' }],
        },
      ],
      receivedAt: '2025-11-23T16:59:30Z',
      dueAt: '2025-11-26T10:00:00Z',
      summary: 'Đăng ký khai sinh cho con',
      fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000 }],
    });
    await changeStatus(v2, 2, '2025-11-23T17:05:00Z');
    await changeStatus(v2, 4, '2025-11-24T02:00:00Z');
    await changeStatus(v2, 10, '2025-11-25T09:30:00Z');
    const { connector: c, parking } = connector();

    const outcomes = await c.deliver(await eventsOf([v1, v2]));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    const [fromV1, fromV2] = await portalState([v1, v2]);
    expect(fromV1).toEqual(expectedDossier(v1));
    expect(fromV2).toEqual({
      ...expectedDossier(v2),
      DinhDanhCHS: [
        { LoaiDinhDanh: 1, SoDinhDanh: '051190001234' },
        { LoaiDinhDanh: 2, SoDinhDanh: '123456789' },
      ],
    });
    expect(await parking.list({ limit: 10 })).toEqual([]);
  });

  it('parks a dossier whose submission it cannot read at the newest version, as a data error, and counts it', async () => {
    const [broken, good] = [newCode(), newCode()];
    await submit(broken, { applicant: undefined });
    await lifecycle(good);
    const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
    const unreadable: string[] = [];
    const c = new PortalSyncConnector({
      events: store,
      client: new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 }),
      parking,
      breaker: new CircuitBreaker('portal', { coolDownMs: 200, failureThreshold: 5 }),
      retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 3 },
      onUnreadable: (target, err) => unreadable.push(`${target} ${err.from}`),
    });

    const outcomes = await c.deliver(await eventsOf([broken, good]));

    expect(Object.fromEntries(outcomes.map((o) => [o.dossier, o.status]))).toEqual({
      [broken]: 'parked',
      [good]: 'delivered',
    });
    expect(await parking.get('portal', broken)).toMatchObject({
      kind: 'data',
      attempts: 1,
      reason: expect.stringContaining(
        'cannot be read as vn.gov.lgsp.dossier.submitted.v2: applicant must be an object',
      ),
    });
    expect(unreadable).toEqual(['portal vn.gov.lgsp.dossier.submitted.v1']);
    expect(await portalState([broken])).toEqual([]);
  });

  it('fills name, field and due date from the catalogue (looked up once), and sends what the events carry', async () => {
    const [bare, full, other] = [newCode(), newCode(), newCode()];
    await submit(bare, { procedureName: undefined, dueAt: undefined });
    await submit(other, { procedureName: undefined });
    await submit(full, {
      sector: { code: 'TP-LOCAL', name: 'Hộ tịch (tỉnh)' },
      applicantType: 'agency',
      applicant: {
        fullName: 'Nguyễn Thị Hoà',
        idNumber: '051190001234',
        email: 'hoa@example.vn',
        phone: '0912345678',
      },
      submittedAt: '2025-11-23T10:00:00Z',
      identityVerified: true,
      onlinePayment: true,
      connectedDatabases: ['CSDLQGDC'],
      documents: [{ code: 'TP1', name: 'Tờ khai đăng ký khai sinh' }],
      fees: [{ code: 'LP01', name: 'Lệ phí hộ tịch', amount: 50000, kind: 'fee', collection: 'online' }],
    });
    const { connector: c, parking } = connector();
    const outcomes = await c.deliver(await eventsOf([bare, full, other]));
    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(await parking.list({ limit: 10 })).toEqual([]);
    const [b, f, o] = await portalState([bare, full, other]);
    // Received Sunday 23 Nov 23:59:30: one working day is Monday 24 Nov.
    expect(b).toMatchObject({
      TenTTHC: 'Đăng ký khai sinh',
      MaLinhVuc: 'G09-TP01',
      TenLinhVuc: 'Hộ tịch',
      NgayHenTra: '20251124235930',
    });
    expect(o).toMatchObject({ TenTTHC: 'Đăng ký khai sinh', NgayHenTra: '20251126170000' });
    expect(f).toMatchObject({
      TenTTHC: 'Đăng ký khai sinh',
      MaLinhVuc: 'TP-LOCAL',
      LoaiDoiTuong: '3',
      Email: 'hoa@example.vn',
      SoDienThoai: '0912345678',
      NgayNopHoSo: '20251123170000',
      TaiKhoanDuocXacThucVoiVNeID: '1',
      DuocThanhToanTrucTuyen: '1',
      DSKetNoiCSDL: [{ MaCSDL: 'CSDLQGDC' }],
      TaiLieuNop: [{ MaThanhPhanHoSo: 'TP1', TenTepDinhKem: 'Tờ khai đăng ký khai sinh' }],
      DanhSachLePhi: [
        {
          MaPhiLePhi: 'LP01',
          TenPhiLePhi: 'Lệ phí hộ tịch',
          Gia: '50000',
          HinhThucThu: '2',
          LoaiPhiLePhi: '2',
        },
      ],
    });
    // Two dossiers needed the catalogue; the procedure was looked up once.
    expect(sim.calls().byOperation.LayThuTuc).toBe(1);
    expect(c.catalogue.peek('1.001193')?.name).toBe('Đăng ký khai sinh');
  });

  it('parks a dossier of a procedure the catalogue does not know, with that reason, and delivers it once the catalogue has it', async () => {
    const code = newCode();
    await submit(code, { procedureCode: '1.003583', procedureName: undefined });
    const { connector: c, parking } = connector();
    expect((await c.deliver(await eventsOf([code])))[0]?.status).toBe('parked');
    expect(await parking.get('portal', code)).toMatchObject({
      kind: 'data',
      reason: expect.stringMatching(/procedure 1\.003583 is not in the portal's catalogue/),
    });
    expect(sim.calls().byOperation.DongBoHoSoMC ?? 0).toBe(0);

    sim.addToCatalogue({
      procedures: [
        {
          MATTHC: '1.003583',
          TENTTHC: 'Đăng ký thường trú',
          CAPTHUCHIEN: 'Cấp Xã',
          LINHVUCTHUCHIEN: [{ MALINHVUC: 'G04-CA01', TENLINHVUC: 'Đăng ký, quản lý cư trú' }],
        },
      ],
    });
    await parking.retry('portal', code, { by: 'operator', at: new Date().toISOString(), note: 'catalogue' });
    expect(await c.redeliver(code)).toMatchObject({ status: 'delivered' });
    expect((await portalState([code]))[0]).toMatchObject({
      TenTTHC: 'Đăng ký thường trú',
      MaLinhVuc: 'G04-CA01',
    });
  });

  it('parks a dossier without a contact when the deployment configures no default', async () => {
    const code = newCode();
    await submit(code);
    const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
    const c = new PortalSyncConnector({
      events: store,
      client: new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp', timeoutMs: 2000 }),
      parking,
      breaker: new CircuitBreaker('portal'),
      dossierDefaults: { applicantType: '1', hinhThuc: '0' },
    });
    expect((await c.deliver(await eventsOf([code])))[0]?.status).toBe('parked');
    expect((await parking.get('portal', code))?.reason).toMatch(/Email is required/);
  });

  it('sends each dossier’s changes in order across batches, as of each batch’s last event', async () => {
    const code = newCode();
    const { connector: c } = connector();
    await submit(code);
    await changeStatus(code, 2, '2025-11-23T17:05:00Z');
    await c.handle(await eventsOf([code]), { checkpoint: 0 });
    const seen = (await eventsOf([code])).length;
    await changeStatus(code, 4, '2025-11-24T02:00:00Z');
    await changeStatus(code, 10, '2025-11-25T09:30:00Z');
    await c.handle((await eventsOf([code])).slice(seen), { checkpoint: 0 });

    expect(await portalState([code])).toEqual([expectedDossier(code)]);
    expect(sim.state().history[code]).toEqual([
      expect.objectContaining({ TrangThaiHoSo: 2, isUpdating: false }),
      expect.objectContaining({ TrangThaiHoSo: 10, isUpdating: true }),
    ]);
  });

  it('creates no second dossier when a batch is replayed, even by a connector that has forgotten it', async () => {
    const codes = [newCode(), newCode()];
    for (const code of codes) await lifecycle(code);
    const batch = await eventsOf(codes);
    await connector().connector.deliver(batch);
    await connector().connector.deliver(batch);
    const { connector: again } = connector();
    await again.deliver(batch);
    await again.deliver(batch);

    const state = sim.state();
    expect(state.dossiers.filter((d) => codes.includes(d.MaHoSo))).toHaveLength(2);
    expect(await portalState(codes)).toEqual(codes.map(expectedDossier));
    for (const code of codes) {
      expect(state.history[code]?.map((h) => (h as { isUpdating: boolean }).isUpdating)).toEqual([
        false,
        true,
        true,
        true,
      ]);
    }
  });

  it('retries through a 30% error rate and an outage, and converges without parking', async () => {
    const codes = Array.from({ length: 12 }, () => newCode());
    for (const code of codes) await lifecycle(code);
    sim.faults.configure(parseFaultConfig({ seed: 42, errorRate: 0.3, outage: { forMs: 1200 } }, Date.now()));
    const { connector: c, parking } = connector({ maxAttempts: 12 });

    const outcomes = await c.deliver(await eventsOf(codes));

    expect(outcomes.every((o) => o.status === 'delivered')).toBe(true);
    expect(await parking.list({ limit: 100 })).toEqual([]);
    const calls = sim.calls();
    expect(calls.rejected.outage).toBeGreaterThan(0);
    expect(calls.rejected.error).toBeGreaterThan(0);
    sim.faults.reset();
    expect(await portalState(codes)).toEqual(codes.map(expectedDossier));
  });

  it('parks only a poison dossier; its later events wait while the other dossiers sync', async () => {
    const good = [newCode(), newCode()];
    const refused = `${AGENCY}-BAD_${counter++}`; // the portal refuses a code outside its pattern
    const unmappable = newCode(); // a status change with no submission: nothing to map
    await lifecycle(good[0]!);
    await submit(refused);
    await changeStatus(unmappable, 2, '2025-11-23T17:05:00Z');
    await lifecycle(good[1]!);
    const { connector: c, parking } = connector();

    const first = await c.deliver(await eventsOf([...good, refused, unmappable]));

    expect(Object.fromEntries(first.map((o) => [o.dossier, o.status]))).toEqual({
      [good[0]!]: 'delivered',
      [refused]: 'parked',
      [unmappable]: 'parked',
      [good[1]!]: 'delivered',
    });
    expect(await portalState([...good, refused, unmappable])).toEqual(good.map(expectedDossier));
    expect(await parking.list({ target: 'portal', limit: 10 })).toHaveLength(2);
    expect(await parking.get('portal', refused)).toMatchObject({
      kind: 'data',
      attempts: 1,
      reason: expect.stringMatching(/refused the request with 400/),
    });
    expect(await parking.get('portal', unmappable)).toMatchObject({
      kind: 'data',
      lastError: expect.stringMatching(/^mapping: .*MaTTHC/),
    });

    // A later event of the refused dossier is held behind its parking and not sent.
    const before = sim.calls().byDossier[refused]?.DongBoHoSoMC ?? 0;
    const seen = (await eventsOf([refused])).length;
    await changeStatus(refused, 2, '2025-11-23T17:05:00Z');
    const later = (await eventsOf([refused])).slice(seen);
    const second = await c.deliver(later);
    expect(second).toEqual([expect.objectContaining({ dossier: refused, status: 'parked' })]);
    expect(sim.calls().byDossier[refused]?.DongBoHoSoMC ?? 0).toBe(before);
    expect((await parking.get('portal', refused))?.lastPosition).toBe(later[0]?.position);
  });

  it('delivers a parked dossier once it is fixed and an operator retries it', async () => {
    const code = newCode();
    await changeStatus(code, 2, '2025-11-23T17:05:00Z'); // the submission has not arrived yet
    const { connector: c, parking } = connector();
    expect((await c.deliver(await eventsOf([code])))[0]?.status).toBe('parked');

    const seen = (await eventsOf([code])).length;
    await submit(code);
    await changeStatus(code, 4, '2025-11-24T02:00:00Z');
    await changeStatus(code, 10, '2025-11-25T09:30:00Z');
    expect((await c.deliver((await eventsOf([code])).slice(seen)))[0]?.status).toBe('parked');
    expect(await portalState([code])).toEqual([]);

    await parking.retry('portal', code, { by: 'operator', at: new Date().toISOString(), note: 'submitted' });
    expect(await c.redeliver(code)).toMatchObject({ dossier: code, status: 'delivered' });

    // In stream order the first change came before the submission (no start known), the second after it.
    const want = expectedDossier(code);
    const [first, second, ...rest] = want.TienDo;
    const { NgayBatDau: _unknown, ...firstWithoutStart } = first!;
    want.TienDo = [
      firstWithoutStart,
      { ...second!, NgayBatDau: '20251123235930' },
      ...rest,
    ] as typeof want.TienDo;
    expect(await portalState([code])).toEqual([want]);
    expect((await parking.history('portal', code)).map((h) => h.action)).toEqual(['parked', 'retried']);
  });

  it('parks a dossier after the gate’s attempts when the portal stays down, without blocking the batch', async () => {
    const code = newCode();
    await lifecycle(code);
    sim.faults.configure(parseFaultConfig({ errorRate: 1 }, Date.now()));
    const { connector: c, parking } = connector({ maxAttempts: 3 });

    await expect(c.handle(await eventsOf([code]), { checkpoint: 0 })).resolves.toBeUndefined();

    expect(await parking.get('portal', code)).toMatchObject({ kind: 'retriable', attempts: 3 });
  });

  it('retries the batch, parking nothing, when the hub cannot read its own event store', async () => {
    const code = newCode();
    await lifecycle(code);
    const parking = new SqlParkingStore(SqliteDatabase.open(':memory:'));
    const c = new PortalSyncConnector({
      events: {
        readStream: () => Promise.reject(new Error('database is locked')),
        streamVersion: () => Promise.reject(new Error('database is locked')),
      },
      client: new PortalClient({ baseUrl: url, username: 'lgsp', password: 'lgsp' }),
      parking,
      breaker: new CircuitBreaker('portal'),
    });

    // Without its submission, the batch does not hold the dossier's whole stream: it must be read.
    const later = (await eventsOf([code])).filter((e) => e.streamVersion > 1);
    await expect(c.handle(later, { checkpoint: 0 })).rejects.toThrow('database is locked');
    expect(await parking.list({ limit: 10 })).toEqual([]);
    expect(sim.calls().byOperation.DongBoHoSoMC ?? 0).toBe(0);
  });

  it('slows down to the portal’s rate limit and still delivers every dossier', async () => {
    const codes = Array.from({ length: 6 }, () => newCode());
    for (const code of codes) await lifecycle(code);
    sim.faults.configure(parseFaultConfig({ rateLimit: { perSecond: 10, burst: 4 } }, Date.now()));
    const { connector: c, parking } = connector({ maxAttempts: 10 });

    const outcomes = await c.deliver(await eventsOf(codes));

    expect(outcomes.every((o) => o.status === 'delivered')).toBe(true);
    expect(await parking.list({ limit: 10 })).toEqual([]);
    expect(sim.calls().rejected['rate-limit']).toBeGreaterThan(0);
    expect(await portalState(codes)).toEqual(codes.map(expectedDossier));
  });

  it('runs as a subscriber with its own checkpoint and catches up through faults', async () => {
    const own = SqliteEventStore.open({ file: join(dir, `runner-${randomUUID()}.db`) });
    const codes = Array.from({ length: 5 }, () => newCode());
    const previous = store;
    store = own; // the helpers append to and read from `store`
    try {
      sim.faults.configure(parseFaultConfig({ seed: 3, errorRate: 0.2 }, Date.now()));
      const { connector: c, parking } = connector({ maxAttempts: 12 });
      const runner = new SubscriptionRunner(own, c, { pollIntervalMs: 20 });
      runner.start();
      for (const code of codes) await lifecycle(code);
      const head = (await own.head()).position;
      const deadline = Date.now() + 20_000;
      while ((runner.checkpoint ?? 0) < head && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await runner.stop();

      expect(await own.checkpoints.load('connector.portal')).toBe(head);
      expect(await parking.list({ limit: 10 })).toEqual([]);
      expect(await portalState(codes)).toEqual(codes.map(expectedDossier));
    } finally {
      store = previous;
      await own.close();
    }
  });

  it('logs in again when the session expires', async () => {
    const [a, b] = [newCode(), newCode()];
    await lifecycle(a);
    await lifecycle(b);
    const { connector: c } = connector();
    await c.deliver(await eventsOf([a]));
    skewMs = 61_000;
    await c.deliver(await eventsOf([b]));

    expect(sim.calls().byOperation.DangNhap).toBe(2);
    expect(await portalState([a, b])).toEqual([expectedDossier(a), expectedDossier(b)]);
  });
});
