import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CivilRegistryClient,
  OneStopShopClient,
  PaymentClient,
  PortalClient,
  civilRegistryResultEvents,
  oneStopShopFacts,
  paymentRef,
  portalFacts,
  registrationSubject,
  toCivilRegistryRequest,
  toOneStopShopDossier,
  toOneStopShopProgress,
  toPaymentEvent,
  toPortalDossier,
  toPortalProgress,
} from '#lgsp/connectors';
import type { CivilRegistrationRequest, CloudEvent } from '#lgsp/contracts';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import {
  CivilRegistrySimulator,
  NationalPortalSimulator,
  OneStopShopSimulator,
  PaymentPlatformSimulator,
} from '#lgsp/simulators';
import {
  expectedDossiers,
  type Mismatch,
  type ReconciliationScope,
  type TargetReconciler,
} from '#lgsp/reconciliation';
import { CivilRegistryReconciler } from './civil-registry/civil-registry-reconciler.js';
import {
  APPLICANT,
  COMMUNE,
  PROVINCE,
  newCode,
  statusEvent,
  submittedEvent,
  toAppend,
  type LogEvent,
} from '../../../test/support/dossier-log.js';
import { OneStopShopReconciler } from './one-stop-shop/one-stop-shop-reconciler.js';
import { PaymentReconciler } from './payments/payment-reconciler.js';
import { PortalReconciler } from './portal/portal-reconciler.js';

const SECRET = 'reconciliation-spec-secret';
const REGISTRATION: CivilRegistrationRequest = {
  registrationType: 'birth',
  person: { fullName: 'Nguyễn Minh Khang', dateOfBirth: '2025-11-20', sex: 'male' },
  placeOfBirth: 'Trạm y tế xã Bình Sơn',
  mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
};

let dir: string;
let store: SqliteEventStore;
const portalSim = new NationalPortalSimulator();
const shopSim = new OneStopShopSimulator();
const registrySim = new CivilRegistrySimulator();
const paymentSim = new PaymentPlatformSimulator({ config: { secret: SECRET } });
const urls: Record<'portal' | 'shop' | 'registry' | 'payments', string> = {
  portal: '',
  shop: '',
  registry: '',
  payments: '',
};
let portal: PortalClient;
let shop: OneStopShopClient;
let registry: CivilRegistryClient;
let payments: PaymentClient;

beforeAll(async () => {
  urls.portal = (await portalSim.start()).url;
  urls.shop = (await shopSim.start()).url;
  urls.registry = (await registrySim.start()).url;
  urls.payments = (await paymentSim.start()).url;
  portal = new PortalClient({ baseUrl: urls.portal, username: 'lgsp', password: 'lgsp' });
  shop = new OneStopShopClient({ baseUrl: urls.shop });
  registry = new CivilRegistryClient({ baseUrl: urls.registry });
  payments = new PaymentClient({ baseUrl: urls.payments, partnerCode: 'H51', secret: SECRET });
});

afterAll(async () => {
  await Promise.all([portalSim.stop(), shopSim.stop(), registrySim.stop(), paymentSim.stop()]);
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-reconcile-'));
  store = SqliteEventStore.open({ file: join(dir, 'events.db') });
  for (const sim of [portalSim, shopSim, registrySim, paymentSim]) sim.reset();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function log(code: string, events: readonly LogEvent[]): Promise<void> {
  await store.append(events.map((e) => toAppend(code, e)));
}

async function appendCaptured(code: string, events: readonly CloudEvent[]): Promise<void> {
  await log(
    code,
    events.map((e) => ({
      type: e.type,
      source: e.source,
      id: e.id,
      data: e.data as Record<string, unknown>,
    })),
  );
}

async function tamper(url: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/_sim/tamper`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

interface Outcome {
  mismatches: Mismatch[];
  batches: number[];
  scanned: number;
  compared: number;
}

async function reconcile(reconciler: TargetReconciler, scope: ReconciliationScope = {}): Promise<Outcome> {
  const { dossiers } = await expectedDossiers(store, scope);
  const outcome: Outcome = { mismatches: [], batches: [], scanned: 0, compared: 0 };
  const context = {
    scanned: (n: number) => (outcome.scanned = n),
    compared: (n: number) => (outcome.compared = n),
    clock: { now: () => Date.parse('2025-11-23T12:00:00+07:00') },
  };
  for await (const batch of reconciler.reconcile(dossiers, scope, context)) {
    outcome.batches.push(batch.length);
    outcome.mismatches.push(...batch);
  }
  return outcome;
}

/** `dossier field category`, sorted, to compare found sets with injected ones. */
const found = (o: Outcome): string[] =>
  o.mismatches.map((m) => `${m.dossier} ${m.field} ${m.category}`).sort();
const line = (dossier: string, field: string, category: string) => `${dossier} ${field} ${category}`;

/** Dossiers received, then in processing (2, then 4), with two progress records. */
async function processingDossiers(n: number): Promise<string[]> {
  const codes = Array.from({ length: n }, () => newCode());
  for (const code of codes) {
    await log(code, [submittedEvent(code), statusEvent(code, 2, 1), statusEvent(code, 4, 2)]);
  }
  return codes;
}

describe('PortalReconciler against the portal simulator (XuatDanhSachHoSo)', () => {
  async function syncAll(): Promise<void> {
    const { dossiers } = await expectedDossiers(store, {});
    for (const d of dossiers.values()) {
      const facts = portalFacts(d.events);
      // The events carry no field (sector): the connector takes it from the portal's catalogue.
      const procedure = await portal.procedure(d.view.procedureCode!);
      await portal.syncDossier(toPortalDossier(d.view, facts, procedure === undefined ? {} : { procedure }));
      await portal.pushProgress(toPortalProgress(d.dossier, facts));
    }
  }

  it('finds exactly the injected mismatches, and none for NFD names, other date formats or numeric strings', async () => {
    const c = await processingDossiers(10);
    await syncAll();
    const reconciler = new PortalReconciler({ client: portal, pageSize: 4, batchSize: 2 });
    expect(found(await reconcile(reconciler))).toEqual([]);
    const page = await portal.exportDossiers(8, 4);
    expect(page).toMatchObject({ total: 10, next: null });
    expect(page.dossiers.map((d) => d.MaHoSo)).toEqual([c[8], c[9]]);
    expect((await portal.exportDossiers(0, 4)).next).toBe(4);
    await expect(portal.exportDossiers(0, 5001)).rejects.toThrow(RangeError);

    const [first] = portalSim.state().dossiers[1]!.TienDo;
    const extra = newCode();
    await tamper(urls.portal, { dossier: c[0], delete: true });
    await tamper(urls.portal, { dossier: c[1], set: { TrangThaiHoSo: 2 } });
    await tamper(urls.portal, { dossier: c[2], set: { TenTTHC: 'Đăng ký kết hôn' } });
    await tamper(urls.portal, { dossier: c[3], set: { ChuHoSo: APPLICANT.normalize('NFD') } });
    await tamper(urls.portal, { dossier: c[4], set: { NgayTiepNhan: '23/11/2025 09:15:00' } });
    await tamper(urls.portal, {
      dossier: c[5],
      set: { KenhThucHien: '2', TrangThaiHoSo: '4', LoaiDoiTuong: 1 },
    });
    await tamper(urls.portal, { dossier: c[6], set: { TienDo: [{ ...first, MaHoSo: c[6] }] } });
    await tamper(urls.portal, { dossier: c[7], set: { TrangThaiHoSo: 9 } });
    await tamper(urls.portal, {
      extra: { ...portalSim.state().dossiers[8], MaHoSo: extra, TienDo: [] },
    });
    // A field the connector filled from the catalogue is reconciled too.
    await tamper(urls.portal, { dossier: c[9], set: { MaLinhVuc: 'G09-TP02' } });
    expect(portalSim.state().dossiers.find((d) => d.MaHoSo === c[3])?.ChuHoSo).toBe(
      APPLICANT.normalize('NFD'),
    );

    const outcome = await reconcile(reconciler);

    expect(found(outcome)).toEqual(
      [
        line(c[0]!, '*', 'missing-in-target'),
        line(c[1]!, 'TrangThaiHoSo', 'stale-status'),
        line(c[2]!, 'TenTTHC', 'wrong-field'),
        line(c[6]!, 'TienDo', 'wrong-field'),
        line(c[7]!, 'TrangThaiHoSo', 'wrong-field'),
        line(c[9]!, 'MaLinhVuc', 'wrong-field'),
        line(extra, '*', 'unexpected-extra'),
      ].sort(),
    );
    const stale = outcome.mismatches.find((m) => m.category === 'stale-status');
    expect(stale).toMatchObject({
      system: 'portal',
      expected: 4,
      actual: 2,
      detectedAt: '2025-11-23T05:00:00.000Z', // 12:00 in Vietnam, as the hub stamps it (UTC)
    });
    expect(outcome.scanned).toBe(10);
    expect(outcome.compared).toBe(10);
    expect(Math.max(...outcome.batches)).toBeLessThanOrEqual(2);
  });

  it('judges extras only as the scope allows', async () => {
    const c = await processingDossiers(3);
    await syncAll();
    const extra = newCode();
    await tamper(urls.portal, { extra: { ...portalSim.state().dossiers[0], MaHoSo: extra } });
    await tamper(urls.portal, { dossier: c[0], delete: true });
    const reconciler = new PortalReconciler({ client: portal });

    expect(found(await reconcile(reconciler, { communeCode: COMMUNE }))).toEqual(
      [line(c[0]!, '*', 'missing-in-target'), line(extra, '*', 'unexpected-extra')].sort(),
    );
    expect(found(await reconcile(reconciler, { provinceCode: PROVINCE }))).toHaveLength(2);
    // A time window that holds every dossier of the log still judges no extra.
    expect(found(await reconcile(reconciler, { from: '2000-01-01T00:00:00Z' }))).toEqual([
      line(c[0]!, '*', 'missing-in-target'),
    ]);
    expect(found(await reconcile(reconciler, { from: '2999-01-01T00:00:00Z' }))).toEqual([]);
    expect(found(await reconcile(reconciler, { communeCode: '21043' }))).toEqual([]);
    expect(found(await reconcile(reconciler, { dossiers: [c[1]!, extra] }))).toEqual([
      line(extra, '*', 'unexpected-extra'),
    ]);
  });
});

describe('OneStopShopReconciler against the one-stop-shop simulator (DanhSachHoSo)', () => {
  it('finds exactly the injected mismatches; status codes and names, NFD and ISO times are no mismatch', async () => {
    const c = await processingDossiers(8);
    const { dossiers } = await expectedDossiers(store, {});
    for (const d of dossiers.values()) {
      const state = { dossier: d.dossier, view: d.view, events: d.events };
      const facts = oneStopShopFacts(d.events);
      await shop.putDossier(d.dossier, toOneStopShopDossier(state, facts));
      await shop.addProgress(d.dossier, toOneStopShopProgress(state, facts));
    }
    const reconciler = new OneStopShopReconciler({ client: shop, pageSize: 3 });
    expect(found(await reconcile(reconciler))).toEqual([]);

    const extra = newCode();
    await tamper(urls.shop, { dossier: c[0], delete: true });
    await tamper(urls.shop, { dossier: c[1], set: { trang_thai: 'DA_TIEP_NHAN' } });
    await tamper(urls.shop, { dossier: c[2], set: { trang_thai: '4' } });
    await tamper(urls.shop, { dossier: c[3], set: { ho_ten_nguoi_nop: APPLICANT.normalize('NFD') } });
    await tamper(urls.shop, { dossier: c[4], set: { le_phi: [{ ten: 'Lệ phí hộ tịch', so_tien: 5000 }] } });
    await tamper(urls.shop, { dossier: c[5], set: { ngay_hen_tra: '2025-11-26T17:00:00+07:00' } });
    await tamper(urls.shop, { dossier: c[6], set: { trang_thai: 'DA_TRA_KET_QUA' } });
    await tamper(urls.shop, { extra: { ...shopSim.state().dossiers[7], ma_ho_so: extra } });

    const outcome = await reconcile(reconciler);

    expect(found(outcome)).toEqual(
      [
        line(c[0]!, '*', 'missing-in-target'),
        line(c[1]!, 'trang_thai', 'stale-status'),
        line(c[4]!, 'le_phi', 'wrong-field'),
        line(c[6]!, 'trang_thai', 'wrong-field'),
        line(extra, '*', 'unexpected-extra'),
      ].sort(),
    );
    expect(
      outcome.mismatches.find((m) => m.field === 'trang_thai' && m.category === 'stale-status'),
    ).toMatchObject({
      system: 'one-stop-shop',
      expected: 'DANG_XU_LY',
      actual: 'DA_TIEP_NHAN',
    });
    expect(outcome.scanned).toBe(8);
  });
});

describe('CivilRegistryReconciler against the civil-registry simulator (DanhSachHoSo)', () => {
  it('finds missing civil records, a stale and a wrong result, and an extra registration', async () => {
    registrySim.configure({ outcomes: { done: 1 }, processingPolls: { min: 0, max: 0 } });
    const c = Array.from({ length: 7 }, () => newCode());
    for (const code of c) {
      await log(code, [
        submittedEvent(code, code === c[6] ? {} : { civilRegistration: REGISTRATION }),
        statusEvent(code, 2, 1),
        statusEvent(code, 4, 2),
      ]);
    }
    const { dossiers } = await expectedDossiers(store, {});
    // c[5] was never sent to the registry; c[6] has no civil registration to send.
    for (const code of c.slice(0, 5)) {
      const d = dossiers.get(code)!;
      const request = { ...toCivilRegistryRequest(d)!, maHoSoLT: `LT${code.slice(-6)}` };
      await registry.receive(request);
      if (code === c[4]) continue; // registered, result not captured yet
      const query = { maDinhDanhHoSo: [code], maTinh: PROVINCE, module: request.module };
      let result = (await registry.results(query)).get(code);
      while (result !== undefined && result.trangThai !== 4)
        result = (await registry.results(query)).get(code);
      const capture = civilRegistryResultEvents(result!, {
        dossierCode: code,
        provinceCode: PROVINCE,
        communeCode: COMMUNE,
        registrationType: 'birth',
        person: registrationSubject(REGISTRATION),
        supplementRequested: false,
        dossierStatus: 4,
      });
      await appendCaptured(code, capture.events);
    }
    const reconciler = new CivilRegistryReconciler({ client: registry, pageSize: 2 });
    expect(found(await reconcile(reconciler))).toEqual([line(c[5]!, '*', 'missing-civil-record')]);

    await tamper(urls.registry, { dossier: c[0], delete: true });
    await tamper(urls.registry, { dossier: c[1], set: { trangThai: 3 } });
    await tamper(urls.registry, { dossier: c[2], set: { soDangKy: '999999' } });
    // Fields the log does not imply (the update time, the book) are not judged.
    await tamper(urls.registry, {
      dossier: c[3],
      set: { ngayCapNhat: '2025-11-23T10:00:00+07:00', quyenSo: '99/2025' },
    });
    const extra = newCode();
    await tamper(urls.registry, { extra: { maHoSoMCDT: extra, maHoSoLT: 'LT-EXTRA-1' } });

    const outcome = await reconcile(reconciler);

    expect(found(outcome)).toEqual(
      [
        line(c[0]!, '*', 'missing-civil-record'),
        line(c[1]!, 'trangThai', 'stale-status'),
        line(c[2]!, 'soDangKy', 'wrong-field'),
        line(c[5]!, '*', 'missing-civil-record'),
        line(extra, '*', 'unexpected-extra'),
      ].sort(),
    );
    expect(outcome.mismatches.find((m) => m.category === 'stale-status')).toMatchObject({
      system: 'civil-registry',
      expected: 4,
      actual: 3,
    });
  });
});

describe('PaymentReconciler against the payment platform simulator (QUERY)', () => {
  it('finds unknown references and results the platform contradicts', async () => {
    paymentSim.configure({
      outcomes: { pending: 1 },
      pendingPolls: { min: 0, max: 0 },
      resolveAfterMs: null,
    });
    const c = Array.from({ length: 6 }, () => newCode());
    for (const code of c) {
      await log(code, [
        submittedEvent(code, code === c[5] ? { fees: [] } : {}),
        statusEvent(code, 2, 1),
        statusEvent(code, 6, 2),
      ]);
    }
    const open = async (code: string) =>
      payments.init({
        ref: paymentRef(code, 1),
        amount: 50000,
        requestedAt: '20251123100200',
        receipt: { MaHoSo: code },
      });
    const settle = async (code: string, outcome: 'completed' | 'failed') => {
      const q = await payments.query({ ref: paymentRef(code, 1), requestedAt: '20251123100200' });
      const mapped = toPaymentEvent(
        {
          outcome,
          ref: q!.ref,
          transactionId: q!.transactionId,
          amount: q!.amount,
          at: q!.at || '20251123110000',
        },
        { dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE },
      );
      if (!mapped.ok) throw new Error(mapped.message);
      await appendCaptured(code, [mapped.event]);
    };
    // c[0] paid on both sides; c[1] paid on the platform, failed in the log; c[2] never opened;
    // c[3] paid in the log, still pending on the platform; c[4] pending on both; c[5] has no fee.
    for (const code of [c[0]!, c[1]!, c[3]!, c[4]!]) await open(code);
    paymentSim.resolve(paymentRef(c[0]!, 1), 1);
    paymentSim.resolve(paymentRef(c[1]!, 1), 1);
    await settle(c[0]!, 'completed');
    await settle(c[1]!, 'failed');
    await settle(c[3]!, 'completed');

    const outcome = await reconcile(
      new PaymentReconciler({ client: payments, concurrency: 3, chunkSize: 2 }),
    );

    expect(found(outcome)).toEqual(
      [
        line(c[1]!, 'TrangThaiGD', 'wrong-field'),
        line(c[2]!, '*', 'missing-in-target'),
        line(c[3]!, 'TrangThaiGD', 'stale-status'),
      ].sort(),
    );
    expect(outcome.mismatches.find((m) => m.dossier === c[2])).toMatchObject({
      system: 'payments',
      expected: { MaThamChieu: paymentRef(c[2]!, 1) },
      actual: null,
    });
    expect(outcome.scanned).toBe(5);
    expect(outcome.compared).toBe(6);
  });
});
