import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminUnits, EventValidator, type CloudEvent } from '#lgsp/contracts';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { IngestService } from '#lgsp/ingest';
import { expectedDossiers, type Mismatch, type TargetReconciler } from '#lgsp/reconciliation';
import { CivilRegistrySimulator, OneStopShopSimulator } from '#lgsp/simulators';
import { COMMUNE, PROVINCE, newCode } from '../../../test/support/dossier-log.js';
import { CivilRegistryClient } from './civil-registry/civil-registry-client.js';
import { CivilRegistryReconciler } from './civil-registry/civil-registry-reconciler.js';
import { captureClient, IngestSink } from './core/event-sink.js';
import { OneStopShopClient } from './one-stop-shop/one-stop-shop-client.js';
import { OneStopShopReconciler } from './one-stop-shop/one-stop-shop-reconciler.js';
import { PaymentClient } from './payments/payment-client.js';
import { PaymentReconciler } from './payments/payment-reconciler.js';

/**
 * Issue 17 part 6 for the systems beside the portal: a record injected only in the system is found
 * as an `unexpected-extra`, its capture (the reconciler's `capture`, appended through the hub's
 * ingest as the hub does) stores the system's events once, and the next run finds nothing. Records
 * that cannot be told as events are refused with the reason, and nothing is stored.
 */

const units = AdminUnits.sample();
const shopSim = new OneStopShopSimulator();
const registrySim = new CivilRegistrySimulator();
let shop: OneStopShopClient;
let registry: CivilRegistryClient;
let shopUrl: string;
let registryUrl: string;
let dir: string;
let store: SqliteEventStore;
let sink: IngestSink;

beforeAll(async () => {
  shopUrl = (await shopSim.start()).url;
  registryUrl = (await registrySim.start()).url;
  shop = new OneStopShopClient({ baseUrl: shopUrl });
  registry = new CivilRegistryClient({ baseUrl: registryUrl });
});

afterAll(async () => {
  await Promise.all([shopSim.stop(), registrySim.stop()]);
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-capture-extras-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  sink = new IngestSink(
    new IngestService(store, new EventValidator({ adminUnits: units }), { units }),
    captureClient('reconciliation'),
  );
  shopSim.reset();
  registrySim.reset();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function tamper(url: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/_sim/tamper`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

async function reconcile(reconciler: TargetReconciler): Promise<Mismatch[]> {
  const { dossiers } = await expectedDossiers(store, {});
  const out: Mismatch[] = [];
  const context = { scanned: () => {}, compared: () => {}, clock: { now: () => Date.now() } };
  for await (const batch of reconciler.reconcile(dossiers, {}, context)) out.push(...batch);
  return out;
}

const events = (told: CloudEvent | readonly CloudEvent[] | undefined): CloudEvent[] =>
  told === undefined ? [] : Array.isArray(told) ? [...told] : [told as CloudEvent];

/** What the log holds of a dossier: [type, source, id, status]. */
async function logged(code: string): Promise<[string, string, string, unknown][]> {
  const stored = await store.readStream(`dossier-${code}`);
  return stored.map((e) => [e.type, e.source, e.id, (e.data as { status?: unknown }).status]);
}

/** A dossier only the shop holds: received by an officer, then in processing. */
function shopRecord(code: string): Record<string, unknown> {
  return {
    ma_ho_so: code,
    ma_thu_tuc: '1.001193',
    ten_thu_tuc: 'Đăng ký khai sinh',
    kenh_nop: 'TRUC_TIEP',
    ho_ten_nguoi_nop: 'Trần Thị Mai',
    so_giay_to: '051190007777',
    trich_yeu: 'Đăng ký khai sinh cho con',
    ma_don_vi: COMMUNE,
    ngay_nhan: '23/11/2025 08:30:00',
    ngay_hen_tra: '26/11/2025 17:00:00',
    trang_thai: 'DANG_XU_LY',
    le_phi: [{ ten: 'Lệ phí đăng ký khai sinh', so_tien: 8000 }],
    phien_ban: 3,
    ngay_cap_nhat: '23/11/2025 10:00:00',
    tien_do: [
      {
        can_bo: 'Trần Văn Bình',
        chuc_vu: 'Công chức tư pháp',
        phong_ban: 'Bộ phận một cửa',
        thoi_gian: '23/11/2025 08:35:00',
        noi_dung: 'Đã tiếp nhận hồ sơ',
        trang_thai: 'DA_TIEP_NHAN',
      },
    ],
  };
}

describe('capture of a one-stop-shop extra (GET /api/v1/ho-so/{ma_ho_so})', () => {
  const reconciler = () => new OneStopShopReconciler({ client: shop, units });

  it('stores the submission and its status changes from the shop, once; the next run finds nothing', async () => {
    const extra = newCode();
    await tamper(shopUrl, { extra: shopRecord(extra) });
    expect((await reconcile(reconciler())).map((m) => [m.dossier, m.category])).toEqual([
      [extra, 'unexpected-extra'],
    ]);

    const told = events(await reconciler().capture(extra));
    const appended = await sink.append(told);
    expect(appended.map((a) => a.duplicate)).toEqual([false, false, false]);
    const source = `/communes/${COMMUNE}/one-stop-shop`;
    expect(await logged(extra)).toEqual([
      ['vn.gov.lgsp.dossier.submitted.v1', source, `one-stop-shop:${extra}/submitted`, undefined],
      ['vn.gov.lgsp.dossier.status-changed.v1', source, `one-stop-shop:${extra}/progress/0`, 2],
      ['vn.gov.lgsp.dossier.status-changed.v1', source, `one-stop-shop:${extra}/status/4`, 4],
    ]);
    const [submitted, received] = await store.readStream(`dossier-${extra}`);
    expect(submitted!.data).toMatchObject({
      dossierCode: extra,
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
      agencyCode: '000.00.51.H56',
      channel: 'in-person',
      applicant: { fullName: 'Trần Thị Mai', idNumber: '051190007777' },
      receivedAt: '2025-11-23T08:30:00+07:00',
      dueAt: '2025-11-26T17:00:00+07:00',
      fees: [{ name: 'Lệ phí đăng ký khai sinh', amount: 8000 }],
    });
    expect(received!.data).toMatchObject({
      handler: { name: 'Trần Văn Bình', title: 'Công chức tư pháp', department: 'Bộ phận một cửa' },
      changedAt: '2025-11-23T08:35:00+07:00',
    });

    // The log now implies the record the shop holds: no finding.
    expect(await reconcile(reconciler())).toEqual([]);
    // A second capture of the same record stores nothing.
    const again = await sink.append(events(await reconciler().capture(extra)));
    expect(again.map((a) => [a.duplicate, a.position])).toEqual(appended.map((a) => [true, a.position]));
  });

  it('refuses a record without what the submission requires, naming the field; unknown: nothing', async () => {
    const extra = newCode();
    const { so_giay_to: _id, ...withoutId } = shopRecord(extra);
    await tamper(shopUrl, { extra: withoutId });
    await expect(reconciler().capture(extra)).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/so_giay_to is missing/) as unknown,
    });
    const otherUnit = newCode();
    await tamper(shopUrl, { extra: { ...shopRecord(otherUnit), ma_don_vi: '99999' } });
    await expect(reconciler().capture(otherUnit)).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/ma_don_vi is not a commune/) as unknown,
    });
    expect(await reconciler().capture(newCode())).toBeUndefined();
    // Without the units it cannot place a record: refused, not guessed.
    await expect(new OneStopShopReconciler({ client: shop }).capture(extra)).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('capture of a civil-registry extra (DanhSachHoSo)', () => {
  const reconciler = () => new CivilRegistryReconciler({ client: registry, units, pageSize: 2 });
  const person = { nksHoTen: 'Phạm Gia Huy', nksNgaySinh: '20.11.2025', nksGioiTinh: 1 };

  it('stores a done birth registration as the result poller would, once; the next run finds nothing', async () => {
    // Two registrations the hub sent would page before it; the listing is read until it is found.
    for (const other of [newCode(), newCode()])
      await tamper(registryUrl, { extra: { maHoSoMCDT: other, maDonVi: COMMUNE, data: person } });
    const extra = newCode();
    await tamper(registryUrl, {
      extra: { maHoSoMCDT: extra, maDonVi: COMMUNE, trangThai: 4, data: person },
    });
    const found = (await reconcile(reconciler())).filter((m) => m.dossier === extra);
    expect(found.map((m) => m.category)).toEqual(['unexpected-extra']);

    const appended = await sink.append(events(await reconciler().capture(extra)));
    expect(appended.map((a) => a.duplicate)).toEqual([false, false]);
    const stored = await store.readStream(`dossier-${extra}`);
    const number = (stored[0]!.data as { registrationNumber: string }).registrationNumber;
    expect(stored.map((e) => [e.type, e.source, e.id])).toEqual([
      [
        'vn.gov.lgsp.civil-status.registered.v1',
        '/national/civil-registry',
        `${extra}/4/registered/${number}`,
      ],
      ['vn.gov.lgsp.dossier.status-changed.v1', '/national/civil-registry', `${extra}/4/status-changed`],
    ]);
    expect(stored[0]!.data).toMatchObject({
      dossierCode: extra,
      provinceCode: PROVINCE,
      communeCode: COMMUNE,
      registrationType: 'birth',
      person: { fullName: 'Phạm Gia Huy', dateOfBirth: '2025-11-20', sex: 'male' },
    });
    expect(stored[1]!.data).toMatchObject({ status: 9 });

    expect((await reconcile(reconciler())).filter((m) => m.dossier === extra)).toEqual([]);
    const again = await sink.append(events(await reconciler().capture(extra)));
    expect(again.every((a) => a.duplicate)).toBe(true);
  });

  it('refuses what is not a registration yet, another module, or a record without the person', async () => {
    const pending = newCode();
    await tamper(registryUrl, { extra: { maHoSoMCDT: pending, maDonVi: COMMUNE, data: person } });
    await expect(reconciler().capture(pending)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/status 1, not 4 \(done\)/) as unknown,
    });
    const death = newCode();
    await tamper(registryUrl, {
      extra: { maHoSoMCDT: death, module: 'LTKT', maDonVi: COMMUNE, trangThai: 4, data: person },
    });
    await expect(reconciler().capture(death)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/module LTKT/) as unknown,
    });
    const bare = newCode();
    await tamper(registryUrl, { extra: { maHoSoMCDT: bare, maDonVi: COMMUNE, trangThai: 4 } });
    await expect(reconciler().capture(bare)).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/data\.nksHoTen is missing/) as unknown,
    });
    expect(await reconciler().capture(newCode())).toBeUndefined();
    for (const code of [pending, death, bare]) expect(await store.readStream(`dossier-${code}`)).toEqual([]);
  });
});

describe('the payment platform', () => {
  it('has no capture: it cannot list its payments, so its reconciliation finds no extra to capture', () => {
    const reconciler: TargetReconciler = new PaymentReconciler({
      client: new PaymentClient({ baseUrl: 'http://127.0.0.1:9', partnerCode: 'H51', secret: 's' }),
    });
    expect(reconciler.capture).toBeUndefined();
  });
});
