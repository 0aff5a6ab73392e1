import type { PendingWorkStore } from '../core/pending/pending-work-store.js';
import { formatVn } from '../core/vn-time.js';
import type { CivilRegistryPendingPayload } from './civil-registry-connector.js';
import { CIVIL_REGISTRY_SOURCE, CIVIL_REGISTRY_TARGET } from './civil-registry-mapping.js';
import {
  bind,
  birthDossier,
  captured,
  COMMUNE,
  connector,
  control,
  drain,
  HANDLER,
  post,
  dvcltSim,
  dvcltStatuses,
  logOf,
  newCode,
  pinSimClock,
  plan,
  poller,
  REGISTRATION,
  registrations,
  REJECT_REASON,
  sim,
  streamOf,
  SUPPLEMENT_REASON,
  viewOf,
  where,
  openPending,
  registeredBirth,
} from './civil-registry-flow.testing.js';

describe('CivilRegistryConnector and CivilRegistryResultPoller with the civil-registry simulator', () => {
  it('registers a birth when processing starts and captures the certificate: registered, then finished', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    const pending = await openPending();

    const outcomes = await connector(pending).deliver(await logOf([code]));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered']);
    expect(registrations()).toEqual([
      expect.objectContaining({
        maHoSoMCDT: code,
        maHoSoLT: expect.stringMatching(/^LT\d{12}$/),
        module: 'LTKS',
        maDonVi: COMMUNE,
        // Received 2025-11-23T16:59:30Z: 23:59:30 in Vietnam.
        ngayTiepNhan: '23/11/2025 23:59:30',
        data: {
          nksHoTen: 'Nguyễn Minh Khang',
          nksNgaySinh: '20.11.2025',
          nksGioiTinh: 1,
          nksNoiSinh: 'Trạm y tế xã Bình Sơn',
          meHoTen: 'Lê Thị Hoà',
          meSoDDCN: '051190001234',
        },
        fileDinhKem: [],
      }),
    ]);
    // DVCLT issued the interlinked code and heard: received (1), sent to the ministry (7).
    expect(dvcltSim.state().dossiers).toEqual([
      expect.objectContaining({
        maHoSoMCDT: code,
        maHoSoLT: registrations()[0]!.maHoSoLT,
        maTTHC: '1.001193',
      }),
    ]);
    expect(dvcltStatuses(code)).toEqual([1, 7]);
    const item = await pending.get(CIVIL_REGISTRY_TARGET, code);
    expect(item).toMatchObject({ dossier: code, attempts: 0 });
    expect(item!.payload).toMatchObject({ lastStatus: 1, person: REGISTRATION.person, communeCode: COMMUNE });

    const p = poller(pending);
    expect(await drain(p, pending)).toEqual({ polled: 3, appended: 2, final: 1 });
    const certificate = registrations()[0]!;
    expect(await captured(code)).toEqual([
      ['civil-status.registered', certificate.soDangKy, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    const [registered] = (await streamOf(code)).filter(
      (e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1',
    );
    expect(registered!.data).toEqual({
      ...where(code),
      registrationType: 'birth',
      registrationNumber: certificate.soDangKy,
      registeredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/),
      person: { ...REGISTRATION.person, idNumber: certificate.soDinhDanh },
    });
    expect(JSON.stringify(await streamOf(code))).not.toContain('JVBERi0');
    expect(await viewOf(code)).toMatchObject({
      status: 9,
      civilStatus: { registrationType: 'birth', registrationNumber: certificate.soDangKy },
    });
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
    expect(await p.pollOnce()).toEqual({ polled: 0, appended: 0, final: 0 });
    // …then done (4), each with the province's civil-status office as the reporting body (5).
    expect(dvcltStatuses(code)).toEqual([1, 7, 4]);
    expect(dvcltSim.state().dossiers[0]!.trangThai.every((t) => t.coQuanXuLy === 5)).toBe(true);
  });

  it('asks for documents on a supplement (5, with the reason), resumes processing (4), then registers', async () => {
    await plan('supplement');
    const { code, pending } = await registeredBirth();

    expect(await drain(poller(pending), pending)).toEqual({ polled: 4, appended: 4, final: 1 });

    expect(await captured(code)).toEqual([
      ['dossier.status-changed', 5, SUPPLEMENT_REASON],
      ['dossier.status-changed', 4, undefined],
      ['civil-status.registered', registrations()[0]!.soDangKy, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    const statuses = (await streamOf(code)).map(
      (e) => (e.data as { previousStatus?: number }).previousStatus,
    );
    expect(statuses.slice(-4)).toEqual([4, 5, undefined, 4]);
    // DVCLT: received, sent, supplement needed (3), processing again (2), done (4).
    expect(dvcltStatuses(code)).toEqual([1, 7, 3, 2, 4]);
  });

  it('rejects the dossier (3, with the reason) when the registry refuses', async () => {
    await plan('rejected', 2);
    const { code, pending } = await registeredBirth();

    expect(await drain(poller(pending), pending)).toEqual({ polled: 4, appended: 1, final: 1 });

    expect(await captured(code)).toEqual([['dossier.status-changed', 3, REJECT_REASON]]);
    expect((await viewOf(code)).status).toBe(3);
    expect((await viewOf(code)).civilStatus).toBeUndefined();
    expect(dvcltStatuses(code)).toEqual([1, 7, 6]);
  });

  it.each([
    ['just after midnight', Date.parse('2025-11-25T00:30:15+07:00'), '2025-11-25T00:00:00+07:00'],
    ['late in the evening', Date.parse('2025-11-25T23:05:00+07:00'), '2025-11-25T00:00:00+07:00'],
  ])(
    'takes the registration day from ngayDangKy (dd/MM/yyyy) and the 9 from ngayCapNhat, %s',
    async (_when, at, registeredAt) => {
      await plan('done');
      pinSimClock(at);
      const { code, pending } = await registeredBirth();
      await drain(poller(pending), pending);

      const events = (await streamOf(code)).filter((e) => e.source === CIVIL_REGISTRY_SOURCE);
      expect(
        events.map((e) => (e.data as { registeredAt?: string; changedAt?: string }).registeredAt),
      ).toEqual([registeredAt, undefined]);
      expect((events[1]!.data as { changedAt: string }).changedAt).toBe(formatVn(at, 'iso'));
    },
  );

  it('turns the registry’s NFD text into NFC', async () => {
    await plan('supplement');
    await control('PUT', '/_sim/faults', { nfd: 1 });
    const { code, pending } = await registeredBirth();
    expect(registrations()[0]!.data.nksHoTen).toBe('Nguyễn Minh Khang'.normalize('NFD'));

    await drain(poller(pending), pending);

    const note = (await captured(code))[0]![2] as string;
    expect(note).toBe(SUPPLEMENT_REASON.normalize('NFC'));
    expect(note).not.toBe(SUPPLEMENT_REASON.normalize('NFD'));
    const registered = (await streamOf(code)).find(
      (e) => e.type === 'vn.gov.lgsp.civil-status.registered.v1',
    )!;
    expect((registered.data as { person: { fullName: string } }).person.fullName).toBe(
      'Nguyễn Minh Khang'.normalize('NFC'),
    );
  });

  it('appends nothing when the same results are polled again', async () => {
    await plan('supplement');
    const { code, pending } = await registeredBirth();
    const first = await pending.get(CIVIL_REGISTRY_TARGET, code);
    await drain(poller(pending), pending);
    const before = (await streamOf(code)).length;

    // The same registration polled again from the start, as a second poller with a stale item would.
    await pending.schedule({ ...first!, dueAt: 0 });
    expect(await drain(poller(pending), pending)).toEqual({ polled: 1, appended: 0, final: 1 });
    expect((await streamOf(code)).length).toBe(before);
  });

  it('resumes with a new poller over the same pending store after a crash between append and update', async () => {
    await plan('supplement', 2);
    const { code, pending } = await registeredBirth();
    const key = code;
    await poller(pending).pollOnce(); // 1: received

    // The process dies after appending the result of the next poll (2: documents requested), before
    // the item is updated: the store refuses every update, as a dead process makes none.
    const dying: PendingWorkStore = {
      ...bind(pending),
      reschedule: () => Promise.reject(new Error('process killed')),
      complete: () => Promise.reject(new Error('process killed')),
    };
    await expect(poller(dying).pollOnce()).rejects.toThrow('process killed');
    expect((await pending.get(CIVIL_REGISTRY_TARGET, key))!.payload).toMatchObject({
      lastStatus: 1,
      supplementRequested: false,
    } satisfies Partial<CivilRegistryPendingPayload>);
    expect(await captured(code)).toEqual([['dossier.status-changed', 5, SUPPLEMENT_REASON]]);

    // The restarted poller learns of the supplement from the log, so the next 3 still resumes processing.

    const restarted = poller(pending);
    await drain(restarted, pending);

    expect(await captured(code)).toEqual([
      ['dossier.status-changed', 5, SUPPLEMENT_REASON],
      ['dossier.status-changed', 4, undefined],
      ['civil-status.registered', registrations()[0]!.soDangKy, undefined],
      ['dossier.status-changed', 9, undefined],
    ]);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('loses nothing through an outage and a high error rate: the loop keeps polling with backoff', async () => {
    await plan('supplement', 2);
    const codes = [newCode(), newCode(), newCode()];
    const pending = await openPending();
    for (const code of codes) await birthDossier(code);
    await connector(pending).deliver(await logOf(codes));

    await control('PUT', '/_sim/faults', { seed: 3, outage: { forMs: 300 }, operations: ['LayKetQua'] });
    const p = poller(pending, { backoffMs: 20 });
    const round = await p.pollOnce();
    expect(round).toEqual({ polled: 3, appended: 0, final: 0 });
    for (const code of codes) {
      const item = await pending.get(CIVIL_REGISTRY_TARGET, code);
      expect(item!.payload).toMatchObject({ failures: 1, lastStatus: 1 });
      expect(item!.dueAt).toBeGreaterThan(Date.now());
    }

    await control('PUT', '/_sim/faults', { seed: 3, errorRate: 0.5, operations: ['LayKetQua'] });
    p.start();
    const deadline = Date.now() + 10_000;
    while ((await pending.count(CIVIL_REGISTRY_TARGET)) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await p.stop();

    expect(sim.calls().rejected.error).toBeGreaterThan(0);
    for (const code of codes) {
      expect(
        (await captured(code)).map(([type, status]) => (type === 'dossier.status-changed' ? status : type)),
      ).toEqual([5, 4, 'civil-status.registered', 9]);
    }
  });

  it('registers again, with the same code, a registration the registry acknowledged and lost', async () => {
    await plan('done');
    await control('PUT', '/_sim/faults', { dropWrites: 1, operations: ['NhanDKHT'] });
    const { code, pending } = await registeredBirth();
    expect(registrations()).toEqual([]);
    await control('PUT', '/_sim/faults', {});

    await drain(poller(pending), pending);

    expect(registrations().map((r) => r.maHoSoMCDT)).toEqual([code]);
    expect((await captured(code)).map(([type]) => type)).toEqual([
      'civil-status.registered',
      'dossier.status-changed',
    ]);
  });

  it('calls nothing for a dossier without civilRegistration', async () => {
    const code = newCode();
    await birthDossier(code, null);
    const pending = await openPending();

    expect((await connector(pending).deliver(await logOf([code]))).map((o) => o.status)).toEqual([
      'delivered',
    ]);

    expect(sim.calls().total).toBe(0);
    expect(dvcltSim.calls().total).toBe(0);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('registers nothing a second time when the connector is replayed over the whole log', async () => {
    await plan('supplement');
    const codes = [newCode(), newCode()];
    const pending = await openPending();
    for (const code of codes) await birthDossier(code);
    await connector(pending).deliver(await logOf(codes));
    await drain(poller(pending), pending);
    const state = registrations();
    const calls = sim.calls().byOperation.NhanDKHT;
    expect(state).toHaveLength(2);
    expect(calls).toBe(2);

    // A new connector with its own (empty) pending store: once with the whole log in one batch, once
    // event by event (each dossier's state then lags the log, which holds the captured results).
    const log = await logOf(codes);
    const fresh = await openPending();
    await connector(fresh).deliver(log);
    for (const event of log) await connector(fresh).deliver([event]);

    expect(sim.calls().byOperation.NhanDKHT).toBe(calls);
    expect(registrations()).toEqual(state);
    expect(await fresh.count(CIVIL_REGISTRY_TARGET)).toBe(0);
  });

  it('registers again, in a replay, a finished registration the registry lost; a replay of one it holds changes nothing', async () => {
    await plan('done');
    const [lost, held] = [newCode(), newCode()];
    const pending = await openPending();
    for (const code of [lost, held]) await birthDossier(code);
    const c = connector(pending);
    await c.deliver(await logOf([lost, held]));
    await drain(poller(pending), pending);
    const before = registrations();
    expect(before).toHaveLength(2);
    const registered = (await captured(lost)).length;

    // The registry loses one registration (reconciliation: "missing civil record").
    await control('POST', '/_sim/reset');
    await plan('done');
    const calls = () => sim.calls().byOperation.NhanDKHT ?? 0;
    // Live delivery does not send a dossier whose result is in the log…
    await c.deliver(await logOf([lost]));
    expect(calls()).toBe(0);
    // …an operator's replay does, marked as a replay, and polls it to its end again.
    const outcome = await c.replay(lost, 'rp-civil');
    expect(outcome?.status).toBe('delivered');
    expect(calls()).toBe(1);
    expect(registrations().map((r) => r.maHoSoMCDT)).toEqual([lost]);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(1);
    await drain(poller(pending), pending);
    expect(registrations()[0]?.trangThai).toBe(4);
    // The same results polled again append nothing new.
    expect(await captured(lost)).toHaveLength(registered);

    // A replay of a registration the registry holds: "đã tồn tại", no new polling.
    await c.replay(lost, 'rp-civil-2');
    expect(calls()).toBe(2);
    expect(await pending.count(CIVIL_REGISTRY_TARGET)).toBe(0);
    expect(registrations()).toHaveLength(1);
  });

  it('marks the events a replay causes with causedbyreplay=<replay id>; live ones carry none', async () => {
    await plan('done');
    const [replayed, live] = [newCode(), newCode()];
    for (const code of [replayed, live]) await birthDossier(code);
    const pending = await openPending();
    const c = connector(pending);
    // First sent by an operator's replay (e.g. after a parking was skipped): its results are the replay's.
    expect((await c.replay(replayed, 'rp-caused'))?.status).toBe('delivered');
    expect(await pending.get(CIVIL_REGISTRY_TARGET, replayed)).toMatchObject({ replay: 'rp-caused' });
    await c.deliver(await logOf([live]));
    await drain(poller(pending), pending);
    const fromRegistry = async (code: string) =>
      (await streamOf(code)).filter((e) => e.source === CIVIL_REGISTRY_SOURCE);
    const caused = await fromRegistry(replayed);
    expect(caused.map((e) => e.type)).toContain('vn.gov.lgsp.civil-status.registered.v1');
    expect(caused.map((e) => e.extensions.causedbyreplay)).toEqual(caused.map(() => 'rp-caused'));
    const notCaused = await fromRegistry(live);
    expect(notCaused.length).toBeGreaterThan(0);
    expect(notCaused.map((e) => e.extensions.causedbyreplay)).toEqual(notCaused.map(() => undefined));
  });

  it('answers an existing registration as a success when the registration is sent again', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    await connector(await openPending()).deliver(await logOf([code]));
    // Another hub instance, without the pending item, sends the same dossier state again.
    const other = await openPending();
    const outcomes = await connector(other).deliver(await logOf([code]));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered']);
    expect(sim.calls().byOperation.NhanDKHT).toBe(2);
    expect(registrations()).toHaveLength(1);
    expect(await other.count(CIVIL_REGISTRY_TARGET)).toBe(1);
  });

  it('reports 5 to DVCLT when a registered birth is handed to the citizen (10), and only then', async () => {
    await plan('done');
    const { code, pending } = await registeredBirth();
    await drain(poller(pending), pending);
    const c = connector(pending);
    await post(code, 'vn.gov.lgsp.dossier.status-changed.v1', {
      status: 10,
      changedAt: '2025-11-26T02:00:00Z',
      handler: HANDLER,
    });
    await c.deliver(await logOf([code]));
    expect(dvcltStatuses(code)).toEqual([1, 7, 4, 5]);

    // A dossier not registered (rejected) reports no 5.
    await plan('rejected');
    const other = await registeredBirth();
    await drain(poller(other.pending), other.pending);
    await post(other.code, 'vn.gov.lgsp.dossier.status-changed.v1', {
      status: 10,
      changedAt: '2025-11-26T02:00:00Z',
      handler: HANDLER,
    });
    await c.deliver(await logOf([other.code]));
    expect(dvcltStatuses(other.code)).toEqual([1, 7, 6]);
  });

  it('reports the DVCLT codes configured for each step (the table is unconfirmed)', async () => {
    await plan('done');
    const code = newCode();
    await birthDossier(code);
    await connector(await openPending(), undefined, { received: 2, sentToMinistry: 3 }).deliver(
      await logOf([code]),
    );
    expect(dvcltStatuses(code)).toEqual([2, 3]);
  });
});
