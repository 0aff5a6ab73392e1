// Issue 16, who was affected: for a breach report, the data subjects whose personal data passed through
// a scope (province, target system) in a window, with the hub, its connectors and the simulators as
// processes; an erased subject vanishes from the answer (not even its reference is left).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ChildProcess } from 'node:child_process';
import { SqlSubjectKeyStore } from '#lgsp/privacy';
import { SqliteDatabase } from '#lgsp/storage/sqlite';
import { getJson, post, statusChanged, submitted } from '../support/events.js';
import { eventually, runCli, startHubProcess, tempDir, type HubProcess } from '../support/hub-process.js';
import { connectorsConfig, startSimulators, type SimName } from '../support/simulators-process.js';

const PEOPLE = {
  an: { fullName: 'Đỗ Văn An', idNumber: '051190000101' },
  binh: { fullName: 'Hồ Thị Bình', idNumber: '051190000102' },
  cuong: { fullName: 'Vũ Mạnh Cường', idNumber: '079190000103' },
};
const C51 = { provinceCode: '51', communeCode: '21040' };
const C79 = { provinceCode: '79', communeCode: '25747' };

interface Subject {
  subjectRef: string;
  roles: string[];
  dossiers: string[];
  firstSeen: string;
  lastSeen: string;
  fields: { fullName?: string; idNumber?: string };
}
interface Report {
  window: { from: string; to: string };
  subjects: Subject[];
  total: number;
  erasedOmitted: boolean;
  next?: string;
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('who was affected, over HTTP with the connectors running', () => {
  let sims: { urls: Record<SimName, string>; child: ChildProcess };
  let dataDir: string;
  let env: Record<string, string>;
  let hub: HubProcess;
  let t0: string;
  let tMid: string;
  let tEnd: string;
  const tokens: Record<string, string> = {};
  const codes = { an: '', binh: '', cuong: '' };

  const affected = async (params: Record<string, string>, token: string | null = hub.adminToken) => {
    const res = await fetch(`${hub.url}/v1/admin/privacy/affected?${new URLSearchParams(params)}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Report };
  };
  const names = (r: Report) => r.subjects.map((s) => s.fields.fullName).sort();

  async function caughtUp(): Promise<void> {
    await eventually(async () => {
      const subs = await getJson(`${hub.url}/v1/admin/subscriptions`, hub.adminToken);
      const list = subs.body.subscriptions as { name: string; lagEvents: number }[];
      return list.some((s) => s.name === 'connector.portal') && list.every((s) => s.lagEvents === 0)
        ? true
        : undefined;
    }, 30_000);
  }

  async function push(code: string, place: typeof C51, applicant: object): Promise<void> {
    const sub = submitted(code);
    Object.assign(sub.data as object, place, { applicant });
    const status = statusChanged(code, 2);
    Object.assign(status.data as object, place);
    for (const event of [sub, status]) expect((await post(hub.url, hub.adminToken, event)).status).toBe(201);
  }

  beforeAll(async () => {
    sims = await startSimulators();
    dataDir = tempDir('lgsp-affected-e2e-');
    env = { LGSP_CONFIG: connectorsConfig(dataDir, sims.urls), LGSP_CONNECTORS: 'all' };
    hub = await startHubProcess({ dataDir, env });
    const cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    for (const [role, args] of [
      ['operator', ['--role', 'operator']],
      ['province', ['--province', '51']],
      ['commune', ['--communes', '21040']],
    ] as const) {
      const created = await runCli(
        ['clients', 'create', '--name', `affected-${role}`, ...args, '--json'],
        cli,
      );
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
      tokens[role] = (JSON.parse(created.stdout) as { token: string }).token;
    }
    codes.an = `000.00.51.H56-251123-${String(300_001)}`;
    codes.binh = `000.00.51.H56-251123-${String(300_002)}`;
    codes.cuong = `000.00.51.H56-251123-${String(300_003)}`;
    await tick();
    t0 = new Date().toISOString();
    await tick();
    await push(codes.an, C51, PEOPLE.an);
    await push(codes.cuong, C79, PEOPLE.cuong);
    await tick();
    tMid = new Date().toISOString();
    await tick();
    await push(codes.binh, C51, PEOPLE.binh);
    await tick();
    tEnd = new Date().toISOString();
    await caughtUp();
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    sims?.child.kill('SIGTERM');
  });

  it('lists the subjects of a province in a window, with roles, dossiers, times, name and ID', async () => {
    const r = await affected({ from: t0, to: tEnd, province: '51' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ window: { from: t0, to: tEnd }, total: 2, erasedOmitted: true });
    expect(names(r.body)).toEqual([PEOPLE.an.fullName, PEOPLE.binh.fullName].sort());
    const an = r.body.subjects.find((s) => s.fields.idNumber === PEOPLE.an.idNumber)!;
    expect(an).toMatchObject({ roles: ['applicant'], dossiers: [codes.an] });
    expect(an.firstSeen >= t0 && an.lastSeen < tMid).toBe(true);

    expect(names((await affected({ from: t0, to: tEnd, province: '79' })).body)).toEqual([
      PEOPLE.cuong.fullName,
    ]);
    expect(names((await affected({ from: tMid, to: tEnd, province: '51' })).body)).toEqual([
      PEOPLE.binh.fullName,
    ]);
    expect(names((await affected({ from: t0, to: tEnd, commune: '25747' })).body)).toEqual([
      PEOPLE.cuong.fullName,
    ]);
    expect(
      (await affected({ from: tEnd, to: new Date(Date.parse(tEnd) + 60_000).toISOString() })).body.total,
    ).toBe(0);
  });

  it('pages the answer', async () => {
    const first = await affected({ from: t0, to: tEnd, limit: '2' });
    expect(first.body.total).toBe(3);
    expect(first.body.subjects).toHaveLength(2);
    const second = await affected({ from: t0, to: tEnd, limit: '2', after: first.body.next! });
    expect(second.body.subjects).toHaveLength(1);
    expect(second.body.next).toBeUndefined();
    const refs = [...first.body.subjects, ...second.body.subjects].map((s) => s.subjectRef);
    expect(new Set(refs).size).toBe(3);
  });

  it('by target: what the connectors delivered (the portal took every dossier, the civil registry none)', async () => {
    const portal = await affected({ from: t0, to: tEnd, target: 'portal' });
    expect(portal.status).toBe(200);
    expect(names(portal.body)).toEqual(
      [PEOPLE.an.fullName, PEOPLE.binh.fullName, PEOPLE.cuong.fullName].sort(),
    );
    const portal51 = await affected({ from: t0, to: tEnd, target: 'portal', province: '51' });
    expect(portal51.body.total).toBe(2);
    // The civil registry takes status changes to 4 or 10 only: none was made.
    const registry = await affected({ from: t0, to: tEnd, target: 'civil-registry' });
    expect(registry.body).toMatchObject({ subjects: [], total: 0 });
  });

  it('answers admins and operators only: province and commune clients 403, no token 401', async () => {
    const params = { from: t0, to: tEnd };
    expect((await affected(params, tokens.operator!)).status).toBe(200);
    expect((await affected(params, tokens.province!)).status).toBe(403);
    expect((await affected(params, tokens.commune!)).status).toBe(403);
    expect((await affected(params, null)).status).toBe(401);
    expect((await affected(params, 'not-a-token')).status).toBe(401);
    // Refused before the query is read: no 422 for a caller without the role.
    expect((await affected({}, tokens.province!)).status).toBe(403);
  });

  it('refuses bad input with a 422 problem naming the parameter', async () => {
    const problem = async (params: Record<string, string>) => {
      const r = await affected(params);
      expect(r.status).toBe(422);
      expect(r.type).toContain('application/problem+json');
      return (r.body as unknown as { errors: { pointer: string }[] }).errors.map((e) => e.pointer);
    };
    expect(await problem({})).toEqual(['/from', '/to']);
    expect(await problem({ from: 'yesterday', to: tEnd })).toEqual(['/from']);
    expect(await problem({ from: tEnd, to: t0 })).toEqual(['/to']);
    expect(await problem({ from: '2025-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })).toEqual(['/to']);
    expect(await problem({ from: t0, to: tEnd, province: '5' })).toEqual(['/province']);
    expect(await problem({ from: t0, to: tEnd, commune: '21040,x' })).toEqual(['/commune']);
    expect(await problem({ from: t0, to: tEnd, target: 'nowhere' })).toEqual(['/target']);
    expect(await problem({ from: t0, to: tEnd, target: 'kafka' })).toEqual(['/target']);
    expect(await problem({ from: t0, to: tEnd, limit: '0' })).toEqual(['/limit']);
    expect(await problem({ from: t0, to: tEnd, dossier: 'x' })).toEqual(['/dossier']);
  });

  it('audits every query with its scope, window and count, never a name or an ID', async () => {
    await affected({ from: t0, to: tEnd, province: '51', target: 'portal' }, tokens.operator!);
    const audit = await getJson(
      `${hub.url}/v1/admin/audit?action=privacy.affected&limit=1000`,
      hub.adminToken,
    );
    const entries = audit.body.entries as {
      actor: string;
      subject: string;
      scope: Record<string, unknown>;
      outcome: Record<string, unknown>;
    }[];
    expect(entries.at(-1)).toMatchObject({
      actor: 'affected-operator',
      subject: 'portal',
      scope: { from: t0, to: tEnd, provinces: ['51'], target: 'portal' },
      outcome: { total: 2, returned: 2, erasedOmitted: true },
    });
    const all = await getJson(`${hub.url}/v1/admin/audit?limit=1000`, hub.adminToken);
    const text = JSON.stringify(all.body);
    for (const p of Object.values(PEOPLE)) {
      expect(text).not.toContain(p.fullName);
      expect(text).not.toContain(p.idNumber);
    }
    // The refused calls are on record too (the generic entry of the operator API).
    expect(text).toContain('"actor":"affected-province"');
  });

  it('lgsp privacy affected prints the report as CSV, every page', async () => {
    const r = await runCli(['privacy', 'affected', '--from', t0, '--to', tEnd, '--province', '51', '--csv'], {
      LGSP_URL: hub.url,
      LGSP_TOKEN: tokens.operator!,
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = r.stdout.trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(r.stdout).toContain(`${PEOPLE.an.fullName},${PEOPLE.an.idNumber}`);
  });

  it('leaves an erased subject out entirely once its key is destroyed', async () => {
    const before = await affected({ from: t0, to: tEnd });
    const anRef = before.body.subjects.find((s) => s.fields.idNumber === PEOPLE.an.idNumber)!.subjectRef;
    await hub.stop();
    // A test-only erasure: the subject's key destroyed in the stopped hub's store.
    const file = readdirSync(dataDir)
      .filter((f) => f.endsWith('.db'))
      .map((f) => join(dataDir, f))
      .find((f) => {
        const db = new DatabaseSync(f, { readOnly: true });
        try {
          return (
            db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'privacy_subject_keys'").get() !== undefined
          );
        } finally {
          db.close();
        }
      })!;
    const db = SqliteDatabase.open(file);
    try {
      const keys = await SqlSubjectKeyStore.open(db);
      expect(keys.ref(PEOPLE.an.idNumber)).toBe(anRef);
      expect(await keys.destroy(anRef)).toMatchObject({ keys: 1, destroyed: 1 });
    } finally {
      await db.close();
    }
    hub = await startHubProcess({ dataDir, adminToken: hub.adminToken, env });

    const after = await affected({ from: t0, to: tEnd });
    expect(after.status).toBe(200);
    expect(after.body.total).toBe(2);
    expect(names(after.body)).toEqual([PEOPLE.binh.fullName, PEOPLE.cuong.fullName].sort());
    for (const params of [{}, { province: '51' }, { target: 'portal' }] as Record<string, string>[]) {
      const text = JSON.stringify((await affected({ from: t0, to: tEnd, ...params })).body);
      expect(text).not.toContain(anRef);
      expect(text).not.toContain(PEOPLE.an.fullName);
      expect(text).not.toContain(PEOPLE.an.idNumber);
      expect(text).not.toContain('[erased]');
    }
  }, 60_000);
});
