import { randomInt } from 'node:crypto';
import { NationalPortalSimulator } from '#lgsp/simulators';
import { dossierCode, post, statusChanged, submitted } from '../support/events.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';
import { POSTGRES_URL, dropSchema, schemaName } from '../support/postgres.js';

/** A dossier code the portal accepts (its pattern ends in 4 to 6 digits). */
const portalCode = (): string => `000.00.51.H56-251123-${String(randomInt(100_000, 999_999))}`;

const PORTAL_PASSWORD = 'p0rtal-s3cret';

interface PortalState {
  dossiers: { MaHoSo: string; TrangThaiHoSo: number; TenTTHC: string }[];
}

// The parking lives in the hub's own store: the events database, or the PostgreSQL schema.
describe.each(['sqlite', 'postgres'] as const)(
  'portal sync (hub process on %s, portal simulator)',
  (store) => {
    const schema = schemaName('portal');
    let portal: NationalPortalSimulator;
    let portalUrl: string;
    let hub: HubProcess;
    let token: string;
    let cli: Record<string, string>;

    const portalState = async (): Promise<PortalState> =>
      (await (await fetch(`${portalUrl}/_sim/state`)).json()) as PortalState;
    const portalStatus = async (code: string): Promise<number | undefined> =>
      (await portalState()).dossiers.find((d) => d.MaHoSo === code)?.TrangThaiHoSo;
    const ingest = async (events: Record<string, unknown>[]): Promise<void> => {
      const r = await post(hub.url, token, events, 'application/cloudevents-batch+json');
      expect(r.status).toBe(201);
    };
    const parked = async (): Promise<{ dossier: string; target: string; kind: string; reason: string }[]> => {
      const r = await runCli(['parked', 'list', '--target', 'portal', '--json'], cli);
      expect(r).toMatchObject({ code: 0 });
      return (
        JSON.parse(r.stdout) as {
          parked: { dossier: string; target: string; kind: string; reason: string }[];
        }
      ).parked;
    };

    beforeAll(async () => {
      portal = new NationalPortalSimulator({ password: PORTAL_PASSWORD });
      portalUrl = (await portal.start(0)).url;
      hub = await startHubProcess({
        env: {
          LGSP_PORTAL_ENABLED: 'true',
          LGSP_PORTAL_URL: portalUrl,
          LGSP_PORTAL_PASSWORD: PORTAL_PASSWORD,
          ...(store === 'postgres' ? { LGSP_STORE: POSTGRES_URL, LGSP_POSTGRES_SCHEMA: schema } : {}),
        },
      });
      token = await createCommuneClient(hub, 'portal-sync');
      cli = { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken };
    });
    afterAll(async () => {
      await hub?.stop();
      await portal?.stop();
      if (store === 'postgres') await dropSchema(schema);
    });

    it('syncs the dossiers, parks only the poison ones, and lets an operator retry and skip them', async () => {
      const good = [portalCode(), portalCode(), portalCode()];
      // No procedure name and a procedure the portal's catalogue does not know: TenTTHC, MaLinhVuc
      // and TenLinhVuc cannot be filled, a data error.
      const fixable = portalCode();
      // A code the portal's pattern refuses.
      const refused = `${dossierCode()}X`;
      const withoutName = submitted(fixable);
      (withoutName.data as Record<string, unknown>).procedureCode = '1.003583';
      delete (withoutName.data as Record<string, unknown>).procedureName;
      await ingest([
        ...good.flatMap((c, i) => [
          submitted(c),
          statusChanged(c, 2),
          ...(i === 0 ? [statusChanged(c, 4)] : []),
        ]),
        withoutName,
        submitted(refused),
      ]);

      await eventually(async () => ((await portalStatus(good[0]!)) === 4 ? true : undefined), 20_000);
      expect(await portalStatus(good[1]!)).toBe(2);
      expect(await portalStatus(good[2]!)).toBe(2);

      const items = await eventually(async () => {
        const p = await parked();
        return p.length === 2 ? p : undefined;
      }, 20_000);
      expect(items.map((p) => p.dossier).sort()).toEqual([fixable, refused].sort());
      expect(items.every((p) => p.target === 'portal' && p.kind === 'data')).toBe(true);
      expect(items.find((p) => p.dossier === fixable)?.reason).toMatch(
        /procedure 1\.003583 is not in the portal's catalogue/,
      );
      expect(await portalStatus(fixable)).toBeUndefined();

      const subs = await runCli(['subscriptions', '--json'], cli);
      expect(JSON.parse(subs.stdout)).toMatchObject({
        subscriptions: expect.arrayContaining([expect.objectContaining({ name: 'connector.portal' })]),
      });

      const table = await runCli(['parked', 'list'], cli);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain(fixable);

      // Other dossiers keep flowing while two are parked; the parked one's later events are held.
      await ingest([statusChanged(good[1]!, 4), submitted(fixable)]);
      await eventually(async () => ((await portalStatus(good[1]!)) === 4 ? true : undefined), 20_000);
      expect(await portalStatus(fixable)).toBeUndefined();

      const retried = await runCli(
        ['parked', 'retry', 'portal', fixable, '--note', 'procedure name sent', '--json'],
        cli,
      );
      expect(retried).toMatchObject({ code: 0 });
      expect(JSON.parse(retried.stdout)).toMatchObject({
        entry: { action: 'retried' },
        delivery: 'delivered',
      });
      expect(await portalStatus(fixable)).toBeDefined();
      expect((await portalState()).dossiers.find((d) => d.MaHoSo === fixable)?.TenTTHC).toBe(
        'Đăng ký khai sinh',
      );

      const skipped = await runCli(
        ['parked', 'skip', 'portal', refused, '--note', 'bad code', '--json'],
        cli,
      );
      expect(skipped).toMatchObject({ code: 0 });
      expect(JSON.parse(skipped.stdout)).toMatchObject({ entry: { action: 'skipped', note: 'bad code' } });
      expect(await parked()).toEqual([]);

      const history = async (code: string): Promise<{ action: string; by: string; note?: string }[]> => {
        const r = await runCli(['parked', 'history', 'portal', code, '--json'], cli);
        expect(r).toMatchObject({ code: 0 });
        return (JSON.parse(r.stdout) as { history: { action: string; by: string; note?: string }[] }).history;
      };
      expect(await history(fixable)).toMatchObject([
        { action: 'parked', by: 'connector' },
        { action: 'retried', note: 'procedure name sent' },
      ]);
      expect(await history(refused)).toMatchObject([
        { action: 'parked', by: 'connector' },
        { action: 'skipped', note: 'bad code' },
      ]);

      const again = await runCli(['parked', 'retry', 'portal', refused], cli);
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/404/);
      expect(hub.output()).toContain('portal connector enabled');
      expect(hub.output()).not.toContain(PORTAL_PASSWORD);

      const unknown = await runCli(['parked', 'list', '--target', 'payments'], cli);
      expect(unknown.code).toBe(3);

      const call = async (path: string, init: RequestInit = {}, bearer = hub.adminToken) => {
        const res = await fetch(`${hub.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        });
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          body: (await res.json()) as unknown,
        };
      };
      const badLimit = await call('/v1/admin/parked?limit=0');
      expect(badLimit).toMatchObject({
        status: 400,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      const badBody = await call(`/v1/admin/parked/portal/${refused}/skip`, {
        method: 'POST',
        body: JSON.stringify({ throughPosition: 'all' }),
      });
      expect(badBody.status).toBe(422);
      expect(badBody.body).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ pointer: '/throughPosition' })]),
      });
      const communeRetry = await call(
        `/v1/admin/parked/portal/${refused}/retry`,
        { method: 'POST', body: '{}' },
        token,
      );
      expect(communeRetry.status).toBe(403);
    }, 60_000);
  },
);
