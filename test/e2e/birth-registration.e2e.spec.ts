import { post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  startHubProcess,
  tempDir,
  type HubProcess,
} from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { sendJson } from '../support/sim-http.js';

/**
 * The birth-registration acceptance of issue 14, as a commune drives it: the hub and the simulators as
 * processes; a one-stop-shop submits a birth registration (1.001193) and takes it into processing; the
 * hub obtains the interlinked code from DVCLT, sends `NhanDKHT` to the civil registry, polls
 * `LayKetQua` in batches, appends `civil-status.registered` and status 9, which the portal connector
 * syncs; the commune hands the certificate over (10), which reaches the portal and DVCLT (5).
 */

const json = async <T>(url: string, token?: string): Promise<T> => {
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
};

interface Registration {
  maHoSoMCDT: string;
  maHoSoLT: string;
  module: string;
  maDonVi: string;
  ngayTiepNhan: string;
  data: Record<string, unknown>;
  trangThai: number;
  soDangKy?: string;
  soDinhDanh?: string;
}
interface InterlinkedDossier {
  maHoSoMCDT: string;
  maHoSoLT: string;
  maTTHC: string;
  trangThai: { trangThai: number; coQuanXuLy: number }[];
}
interface View {
  status?: number;
  civilStatus?: { registrationType: string; registrationNumber: string };
}

const CODES = Array.from({ length: 3 }, (_, i) => `000.00.51.H56-251123-${String(7000 + i)}`);

describe('a birth registration end to end: one-stop-shop → hub → civil registry and DVCLT → portal 9 and 10', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    sims = await startSimulators();
    // Every registration done after two processing polls: at least three LayKetQua batches.
    await sendJson(sims.urls['civil-registry'], 'PUT', '/_sim/config', {
      seed: 14,
      outcomes: { done: 1, supplement: 0, rejected: 0 },
      processingPolls: { min: 2, max: 2 },
    });
    const dataDir = tempDir('lgsp-birth-e2e-');
    hub = await startHubProcess({
      dataDir,
      env: { LGSP_CONFIG: connectorsConfig(dataDir, sims.urls), LGSP_CONNECTORS: 'all' },
    });
    token = await createCommuneClient(hub, 'e2e-birth');
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('registers the births, captures the results in batches and brings the portal to 9, then 10', async () => {
    const events = CODES.flatMap((code, i) => [
      submitted(code, {
        data: {
          ...(submitted(code).data as Record<string, unknown>),
          civilRegistration: {
            registrationType: 'birth',
            person: { fullName: `Nguyễn Minh Khang ${i}`, dateOfBirth: '2025-11-20', sex: 'male' },
            placeOfBirth: 'Trạm y tế xã Bình Sơn',
            mother: { fullName: 'Lê Thị Hoà', idNumber: '051190001234' },
          },
        },
      }),
      statusChanged(code, 2),
      statusChanged(code, 4),
    ]);
    const accepted = await post(hub.url, token, events, 'application/cloudevents-batch+json');
    expect(accepted.status).toBe(201);

    // The hub's log: civil-status.registered and status 9 for each birth.
    const views = await eventually(async () => {
      const all: View[] = [];
      for (const c of CODES) {
        const res = await fetch(`${hub.url}/v1/dossiers/${encodeURIComponent(c)}`, {
          headers: { authorization: `Bearer ${hub.adminToken}` },
        });
        // 404 until the projection has the dossier.
        if (res.status !== 200) return undefined;
        all.push((await res.json()) as View);
      }
      return all.every((v) => v.status === 9 && v.civilStatus !== undefined) ? all : undefined;
    }, 60_000);

    // The civil registry received NhanDKHT in the real shape, with DVCLT's interlinked code.
    const registry = await json<{ registrations: Registration[] }>(
      `${sims.urls['civil-registry']}/_sim/state`,
    );
    const dvclt = await json<{ dossiers: InterlinkedDossier[] }>(`${sims.urls.dvclt}/_sim/state`);
    expect(registry.registrations.map((r) => r.maHoSoMCDT).sort()).toEqual([...CODES].sort());
    for (const [i, code] of CODES.entries()) {
      const r = registry.registrations.find((x) => x.maHoSoMCDT === code)!;
      const link = dvclt.dossiers.find((d) => d.maHoSoMCDT === code)!;
      expect(r).toMatchObject({
        maHoSoLT: link.maHoSoLT,
        module: 'LTKS',
        maDonVi: '21040',
        ngayTiepNhan: '23/11/2025 09:15:00',
        data: { nksHoTen: `Nguyễn Minh Khang ${i}`, nksNgaySinh: '20.11.2025', meSoDDCN: '051190001234' },
        trangThai: 4,
      });
      expect(link.maTTHC).toBe('1.001193');
      expect(views[i]!.civilStatus).toMatchObject({
        registrationType: 'birth',
        registrationNumber: r.soDangKy,
      });
      // The child's new personal ID is in the registered event (the view keeps no personal data).
      const registered = await json<{
        events: { event: { data: { dossierCode: string; person: { idNumber?: string } } } }[];
      }>(
        `${hub.url}/v1/events?after=0&limit=1000&type=vn.gov.lgsp.civil-status.registered.v1`,
        hub.adminToken,
      );
      expect(
        registered.events.find((e) => e.event.data.dossierCode === code)?.event.data.person.idNumber,
      ).toBe(r.soDinhDanh);
    }
    // The results came by batch: fewer LayKetQua calls than polls of single dossiers would need.
    const calls = await json<{
      byOperation: Record<string, number>;
      byDossier: Record<string, Record<string, number>>;
    }>(`${sims.urls['civil-registry']}/_sim/calls`);
    const asked = CODES.reduce((n, c) => n + (calls.byDossier[c]?.LayKetQua ?? 0), 0);
    expect(calls.byOperation.LayKetQua).toBeLessThan(asked);
    expect(calls.byOperation.NhanDKHT).toBe(CODES.length);

    // The certificate (base64) stays out of the event log.
    const log = await fetch(`${hub.url}/v1/events?after=0&limit=1000`, {
      headers: { authorization: `Bearer ${hub.adminToken}` },
    });
    expect(await log.text()).not.toContain('JVBERi0');

    // The portal holds 9, then the commune hands the certificates over (10).
    const portalStatus = async (code: string) =>
      (
        await json<{ dossiers: { MaHoSo: string; TrangThaiHoSo: number }[] }>(
          `${sims.urls['national-portal']}/_sim/state`,
        )
      ).dossiers.find((d) => d.MaHoSo === code)?.TrangThaiHoSo;
    for (const code of CODES)
      await eventually(async () => ((await portalStatus(code)) === 9 ? true : undefined), 30_000);
    const handed = await post(
      hub.url,
      token,
      CODES.map((c) => {
        const event = statusChanged(c, 10, { time: new Date().toISOString() });
        return { ...event, data: { ...(event.data as object), changedAt: new Date().toISOString() } };
      }),
      'application/cloudevents-batch+json',
    );
    expect(handed.status).toBe(201);
    for (const code of CODES) {
      await eventually(async () => ((await portalStatus(code)) === 10 ? true : undefined), 30_000);
    }

    // DVCLT heard the flow: received, sent to the ministry, done, handed over — by body 5.
    await eventually(async () => {
      const state = await json<{ dossiers: InterlinkedDossier[] }>(`${sims.urls.dvclt}/_sim/state`);
      const reports = CODES.map((c) => state.dossiers.find((d) => d.maHoSoMCDT === c)!.trangThai);
      return reports.every(
        (r) => r.map((t) => t.trangThai).join() === '1,7,4,5' && r.every((t) => t.coQuanXuLy === 5),
      )
        ? true
        : undefined;
    }, 30_000);
  }, 180_000);
});
