import { randomInt, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimulatorsProcess } from '../support/simulators-process.js';
import { sendJson } from '../support/sim-http.js';

/**
 * Issue 17 part 6 with the hub, its connectors and the simulators as processes: records only the
 * portal holds (online submissions the hub never captured) are found, the replay plan from that run
 * needs no --target and says plainly that it cannot fix them (exit 8), an operator captures one into
 * the log and acknowledges the other, and the next run is clean; a refused plan is audited; the new
 * routes are refused to province and commune clients, and bad input changes nothing.
 */

const code = (): string => `000.00.51.H56-251125-${String(randomInt(100_000, 999_999))}`;

interface Finding {
  seq: number;
  dossier: string;
  category: string;
  resolution?: { action: string; by: string; note?: string; position?: number; fromRun?: string };
}

describe('the operator flow: extras, plans and refusals', () => {
  let sims: SimulatorsProcess;
  let hub: HubProcess;
  let cli: Record<string, string>;
  let dataDir: string;
  const tokens: Record<string, string> = {};

  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  };
  const lgsp = async (args: string[], env = cli) => {
    const r = await runCli(args, env);
    return {
      ...r,
      json: r.stdout.trim().startsWith('{') ? (JSON.parse(r.stdout) as Record<string, unknown>) : {},
    };
  };
  const settled = () =>
    eventually(async () => {
      const subs = (await api('admin', 'GET', '/v1/admin/subscriptions')).body.subscriptions as {
        lagEvents: number;
      }[];
      return subs.every((s) => s.lagEvents === 0) ? true : undefined;
    }, 60_000);

  beforeAll(async () => {
    sims = await startSimulators();
    dataDir = tempDir('lgsp-operator-flow-e2e-');
    const config = connectorsConfig(dataDir, sims.urls);
    hub = await startHubProcess({ dataDir, env: { LGSP_CONFIG: config, LGSP_CONNECTORS: 'all' } });
    tokens.admin = hub.adminToken;
    cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    const client = async (who: string, body: Record<string, unknown>) => {
      const res = await api('admin', 'POST', '/v1/admin/clients', {
        name: `${who}-${randomUUID().slice(0, 6)}`,
        ...body,
      });
      expect(res.status).toBe(201);
      tokens[who] = res.body.token as string;
    };
    await client('operator', { role: 'operator' });
    await client('p51', { province: '51' });
    await client('c51', { communes: ['21040'] });
    const events = Array.from({ length: 5 }, () => code()).flatMap((c) => [
      submitted(c),
      statusChanged(c, 2),
    ]);
    expect((await post(hub.url, tokens.c51, events, 'application/cloudevents-batch+json')).status).toBe(201);
    await settled();
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('finds the extras, plans without --target saying it cannot fix them, captures one, acknowledges one, and the next run is clean', async () => {
    // Two citizens submitted online on the portal; the hub's online capture is off: only the portal has them.
    const created = (await sendJson(sims.urls['national-portal'], 'POST', '/_sim/online-submissions', [
      {
        MaTTHC: '1.001193',
        TenTTHC: 'Đăng ký khai sinh',
        ChuHoSo: 'Lê Thị Hoa',
        MaDonVi: '21040',
        SoGiayToChuHoSo: '051190001234',
      },
      {
        MaTTHC: '1.001193',
        TenTTHC: 'Đăng ký khai sinh',
        ChuHoSo: 'Phạm Văn Nam',
        MaDonVi: '21040',
        SoGiayToChuHoSo: '051190004321',
      },
    ])) as { MaHoSo: string }[];
    const [first, second] = created.map((c) => c.MaHoSo) as [string, string];

    const found = await lgsp(['reconcile', 'run', '--target', 'portal', '--json']);
    expect(found.code).toBe(8);
    const runId = (found.json.run as { id: string }).id;
    const findings = found.json.mismatches as Finding[];
    expect(findings.map((f) => [f.dossier, f.category]).sort()).toEqual(
      [
        [first, 'unexpected-extra'],
        [second, 'unexpected-extra'],
      ].sort(),
    );

    const plan = await lgsp(['replay', 'plan', '--from-reconciliation', runId]);
    expect(plan.code).toBe(8);
    expect(plan.stdout).toMatch(/replay plan to: +portal/);
    expect(plan.stdout).toMatch(/dossiers: +0/);
    expect(plan.stdout).toContain(
      'Not fixable by a replay (unexpected-extra, left out): 2 records are in portal',
    );
    const ran = await lgsp(['replay', 'run', '--from-reconciliation', runId, '--json']);
    expect(ran.code).toBe(8);
    expect(ran.json.replay as { state: string; total: number }).toMatchObject({
      state: 'completed',
      total: 0,
    });

    // A plan refused (a run of another target) is audited with its reason.
    const refused = await lgsp([
      'replay',
      'plan',
      '--target',
      'one-stop-shop',
      '--from-reconciliation',
      runId,
    ]);
    expect(refused.code).toBe(3);
    const audit = async (action: string) =>
      (await api('admin', 'GET', `/v1/admin/audit?action=${action}&limit=100`)).body.entries as {
        action: string;
        actor: string;
        outcome: Record<string, unknown>;
      }[];
    expect(await audit('replay.plan')).toContainEqual(
      expect.objectContaining({
        outcome: expect.objectContaining({
          refused: true,
          code: 'invalid',
          reason: expect.stringContaining('covers portal'),
        }),
      }),
    );

    const seqOf = (dossier: string) => findings.find((f) => f.dossier === dossier)!.seq;
    // Every role and bad input: refused, and nothing changes.
    for (const who of ['p51', 'c51']) {
      const r = await api(
        who,
        'POST',
        `/v1/admin/reconciliations/${runId}/mismatches/${seqOf(first)}/capture`,
        {},
      );
      expect(r.status).toBe(403);
    }
    const noNote = await api(
      'operator',
      'POST',
      `/v1/admin/reconciliations/${runId}/mismatches/${seqOf(second)}/acknowledge`,
      {},
    );
    expect([noNote.status, noNote.type]).toEqual([422, expect.stringContaining('application/problem+json')]);
    const badSeq = await api(
      'operator',
      'POST',
      `/v1/admin/reconciliations/${runId}/mismatches/x1/capture`,
      {},
    );
    expect(badSeq.status).toBe(404);
    const unknownRun = await api(
      'operator',
      'POST',
      '/v1/admin/reconciliations/rc-nope/mismatches/1/capture',
      {},
    );
    expect(unknownRun.status).toBe(404);
    const tooLong = await api(
      'operator',
      'POST',
      `/v1/admin/reconciliations/${runId}/mismatches/${seqOf(second)}/acknowledge`,
      {
        note: 'x'.repeat(1001),
      },
    );
    expect(tooLong.status).toBe(422);
    const untouched = (await api('admin', 'GET', `/v1/admin/reconciliations/${runId}`)).body
      .mismatches as Finding[];
    expect(untouched.every((f) => f.resolution === undefined)).toBe(true);

    // The operator captures the first (the CLI), the admin acknowledges the second (the API).
    const captured = await lgsp(['reconcile', 'capture', runId, String(seqOf(first)), '--json'], {
      LGSP_URL: hub.url,
      LGSP_TOKEN: tokens.operator!,
    });
    expect(captured.stderr).toBe('');
    expect(captured.code).toBe(0);
    const position = (captured.json.mismatch as Finding).resolution!.position!;
    const log = (await api('admin', 'GET', `/v1/streams/dossier-${first}`)).body.events as {
      position: number;
      event: { source: string; type: string };
    }[];
    expect(log[0]).toMatchObject({
      position,
      event: { source: '/national/portal', type: 'vn.gov.lgsp.dossier.submitted.v1' },
    });
    const again = await api(
      'operator',
      'POST',
      `/v1/admin/reconciliations/${runId}/mismatches/${seqOf(first)}/capture`,
      {},
    );
    expect(again.status).toBe(409);
    const ack = await api(
      'admin',
      'POST',
      `/v1/admin/reconciliations/${runId}/mismatches/${seqOf(second)}/acknowledge`,
      {
        note: 'a test submission of the portal team',
      },
    );
    expect(ack.status).toBe(200);
    expect(await lgsp(['reconcile', 'show', runId]).then((r) => r.code)).toBe(0);

    expect(
      (await audit('reconciliation.capture')).map((e) => [
        e.actor.startsWith('operator'),
        e.outcome.refused ?? false,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [true, false],
        [true, true],
      ]),
    );
    expect(await audit('reconciliation.acknowledge')).toContainEqual(
      expect.objectContaining({
        outcome: expect.objectContaining({
          action: 'acknowledged',
          note: 'a test submission of the portal team',
        }),
      }),
    );
    // The refused attempts of other roles left their HTTP entries.
    expect((await audit('http.post')).filter((e) => e.outcome.status === 403).length).toBeGreaterThanOrEqual(
      2,
    );

    // The captured dossier flows to the portal like any other; the acknowledged one is not open again.
    await settled();
    const next = await lgsp(['reconcile', 'run', '--target', 'portal', '--json']);
    expect(next.code).toBe(0);
    const nextFindings = next.json.mismatches as Finding[];
    expect(
      nextFindings.map((f) => [f.dossier, f.category, f.resolution?.action, f.resolution?.fromRun]),
    ).toEqual([[second, 'unexpected-extra', 'acknowledged', runId]]);
  });
  it('captures a one-stop-shop extra through the CLI: the submission and its status from the shop, sealed; the next run is clean', async () => {
    // A dossier an officer keyed in on the one-stop-shop itself: the hub never had it.
    const extra = code();
    const applicant = 'Đỗ Thị Xuân';
    const idNumber = `0511900${String(randomInt(10_000, 99_999))}`;
    await sendJson(sims.urls['one-stop-shop'], 'POST', '/_sim/tamper', {
      extra: {
        ma_ho_so: extra,
        ma_thu_tuc: '1.001193',
        ten_thu_tuc: 'Đăng ký khai sinh',
        kenh_nop: 'TRUC_TIEP',
        ho_ten_nguoi_nop: applicant,
        so_giay_to: idNumber,
        ma_don_vi: '21040',
        ngay_nhan: '25/11/2025 08:30:00',
        trang_thai: 'DA_TIEP_NHAN',
        le_phi: [],
        phien_ban: 2,
        ngay_cap_nhat: '25/11/2025 08:40:00',
        tien_do: [],
      },
    });
    const found = await lgsp(['reconcile', 'run', '--target', 'one-stop-shop', '--json']);
    expect(found.code).toBe(8);
    const runId = (found.json.run as { id: string }).id;
    const finding = (found.json.mismatches as Finding[]).find((f) => f.dossier === extra)!;
    expect(finding.category).toBe('unexpected-extra');
    const path = `/v1/admin/reconciliations/${runId}/mismatches/${finding.seq}/capture`;
    for (const who of ['p51', 'c51']) expect((await api(who, 'POST', path, {})).status).toBe(403);

    const captured = await lgsp(['reconcile', 'capture', runId, String(finding.seq), '--json'], {
      LGSP_URL: hub.url,
      LGSP_TOKEN: tokens.operator!,
    });
    expect([captured.code, captured.stderr]).toEqual([0, '']);
    const position = (captured.json.mismatch as Finding).resolution!.position!;
    const log = (await api('admin', 'GET', `/v1/streams/dossier-${extra}`)).body.events as {
      position: number;
      event: { id: string; source: string; type: string; data: Record<string, unknown> };
    }[];
    expect(log.map((e) => [e.event.source, e.event.type, e.event.id])).toEqual([
      [
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.submitted.v1',
        `one-stop-shop:${extra}/submitted`,
      ],
      [
        '/communes/21040/one-stop-shop',
        'vn.gov.lgsp.dossier.status-changed.v1',
        `one-stop-shop:${extra}/status/2`,
      ],
    ]);
    expect(log.at(-1)!.position).toBe(position);
    // Read back in clear through the API…
    expect(log[0]!.event.data).toMatchObject({ applicant: { fullName: applicant, idNumber } });
    // …and sealed like any event in the hub's files (the event store and its WAL among them).
    expect(readdirSync(dataDir)).toContain('events.db');
    for (const name of readdirSync(dataDir)) {
      const file = join(dataDir, name);
      if (!statSync(file).isFile()) continue;
      const bytes = readFileSync(file);
      expect([name, bytes.includes(Buffer.from(applicant)), bytes.includes(Buffer.from(idNumber))]).toEqual([
        name,
        false,
        false,
      ]);
    }
    expect((await api('operator', 'POST', path, {})).status).toBe(409);

    // The captured dossier flows on like any other; the shop's record now matches the log.
    await settled();
    const next = await lgsp(['reconcile', 'run', '--target', 'one-stop-shop', '--json']);
    expect((next.json.mismatches as Finding[]).filter((f) => f.dossier === extra)).toEqual([]);
  });
  it('captures a done civil registration found only in the registry; its dossier, without a submission, parks at the portal and the shop', async () => {
    const extra = code();
    await sendJson(sims.urls['civil-registry'], 'POST', '/_sim/tamper', {
      extra: {
        maHoSoMCDT: extra,
        maDonVi: '21040',
        trangThai: 4,
        data: { nksHoTen: 'Vũ Minh Châu', nksNgaySinh: '21.11.2025', nksGioiTinh: 2 },
      },
    });
    const found = await lgsp(['reconcile', 'run', '--target', 'civil-registry', '--json']);
    expect(found.code).toBe(8);
    const runId = (found.json.run as { id: string }).id;
    const finding = (found.json.mismatches as Finding[]).find((f) => f.dossier === extra)!;
    expect(finding.category).toBe('unexpected-extra');
    const path = `/v1/admin/reconciliations/${runId}/mismatches/${finding.seq}/capture`;
    for (const who of ['p51', 'c51']) expect((await api(who, 'POST', path, {})).status).toBe(403);
    const captured = await api('operator', 'POST', path, {});
    expect(captured.status).toBe(200);
    const log = (await api('admin', 'GET', `/v1/streams/dossier-${extra}`)).body.events as {
      event: { source: string; type: string; data: Record<string, unknown> };
    }[];
    expect(log.map((e) => [e.event.source, e.event.type])).toEqual([
      ['/national/civil-registry', 'vn.gov.lgsp.civil-status.registered.v1'],
      ['/national/civil-registry', 'vn.gov.lgsp.dossier.status-changed.v1'],
    ]);
    expect(log[0]!.event.data).toMatchObject({
      registrationType: 'birth',
      person: { fullName: 'Vũ Minh Châu', dateOfBirth: '2025-11-21', sex: 'female' },
    });
    expect((await api('operator', 'POST', path, {})).status).toBe(409);

    // No submission in the log: the portal and the shop cannot be sent the dossier, which parks there.
    for (const target of ['portal', 'one-stop-shop']) {
      const parked = await eventually(async () => {
        const list = (await api('admin', 'GET', `/v1/admin/parked?target=${target}&limit=1000`)).body
          .parked as { dossier: string }[];
        return list.find((p) => p.dossier === extra);
      }, 30_000);
      expect([target, parked?.dossier]).toEqual([target, extra]);
    }
    const next = await lgsp(['reconcile', 'run', '--target', 'civil-registry', '--json']);
    expect((next.json.mismatches as Finding[]).filter((f) => f.dossier === extra)).toEqual([]);
  });
});
