import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';

const ID = 'er_0miabc12300a1b2c3d4e5f6';
const REF = 'q4Z1kS0yq1m2Vh3Zp0aX9nQfL7cR2tW8uE5yB6dN4oI';

const erasure = (over: Record<string, unknown> = {}) => ({
  id: ID,
  state: 'requested',
  subjectRef: REF,
  subject: '*********123',
  requestedBy: 'ops',
  requestedAt: '2026-12-04T03:00:00.000Z',
  deadlines: {
    acknowledgeBy: '2026-12-08T16:59:59.999Z',
    completeBy: '2027-01-03T03:00:00.000Z',
    thirdParties: true,
  },
  exemptions: [],
  overdue: { acknowledge: false, complete: false },
  ...over,
});

describe('lgsp erasure', () => {
  it('requests an erasure, printing the deadlines and the masked subject, never the ID', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/erasures': () => [201, { erasure: erasure({ note: 'thư' }) }],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['erasure', 'request', '051190000123', '--note', 'thư'], cli)).toBe(0);
      expect(hub.seen[0]).toMatchObject({
        method: 'POST',
        url: '/v1/admin/erasures',
        body: { subjectId: '051190000123', note: 'thư' },
      });
      expect(out.stdout).toMatch(new RegExp(`erasure: +${ID}\n`));
      expect(out.stdout).toMatch(/state: +requested\n/);
      expect(out.stdout).toMatch(/subject: +\*{9}123 \(ref q4Z1/);
      expect(out.stdout).toMatch(/answer by: +2026-12-08T16:59:59\.999Z\n/);
      expect(out.stdout).toMatch(/complete by: +2027-01-03T03:00:00\.000Z \(third parties hold copies\)\n/);
      expect(out.stdout).not.toContain('051190000123');

      const json = io(hub.url);
      expect(await runCli(['erasure', 'request', '051190000123', '--json'], json.cli)).toBe(0);
      expect(JSON.parse(json.out.stdout)).toEqual({ erasure: erasure({ note: 'thư' }) });
      expect(hub.seen[1]?.body).toEqual({ subjectId: '051190000123' });
    } finally {
      await hub.close();
    }
  });

  it('lists with overdue deadlines marked, and the next page', async () => {
    const hub = await fakeHub({
      'GET /v1/admin/erasures': () => [
        200,
        {
          erasures: [
            erasure({ overdue: { acknowledge: true, complete: false } }),
            erasure({ id: 'er_2', state: 'refused', refusal: { basis: 'Luật 91/2025 Điều 14' } }),
          ],
          next: 'er_2',
        },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['erasure', 'list', '--limit', '2', '--after', 'er_0'], cli)).toBe(0);
      expect(hub.seen[0]?.url).toBe('/v1/admin/erasures?limit=2&after=er_0');
      expect(out.stdout).toMatch(/requested, answer overdue +\*{9}123/);
      expect(out.stdout).toContain('2026-12-08T16:59:59.999Z (OVERDUE)');
      expect(out.stdout).toMatch(/er_2 +refused: Luật 91\/2025 Điều 14/);
      expect(out.stdout).toContain('more: --after er_2');
    } finally {
      await hub.close();
    }
  });

  it('shows, approves and refuses, with what came of each', async () => {
    const hub = await fakeHub({
      [`GET /v1/admin/erasures/${ID}`]: () => [
        200,
        { erasure: erasure({ exemptions: [{ procedure: '2.000001', basis: 'Luật Hộ tịch' }] }) },
      ],
      [`POST /v1/admin/erasures/${ID}/approve`]: () => [
        200,
        {
          erasure: erasure({
            state: 'erased',
            decidedBy: 'admin',
            decidedAt: '2026-12-05T03:00:00.000Z',
            outcome: { keysDestroyed: 1, dossiers: 2, notices: 2 },
          }),
        },
      ],
      [`POST /v1/admin/erasures/${ID}/refuse`]: (_req, body) => [
        200,
        {
          erasure: erasure({
            state: 'refused',
            decidedBy: 'ops',
            decidedAt: '2026-12-05T03:00:00.000Z',
            refusal: body,
          }),
        },
      ],
    });
    try {
      const show = io(hub.url);
      expect(await runCli(['erasure', 'show', ID], show.cli)).toBe(0);
      expect(show.out.stdout).toMatch(/exemptions: +2\.000001: Luật Hộ tịch\n/);

      const approve = io(hub.url);
      expect(await runCli(['erasure', 'approve', ID], approve.cli)).toBe(0);
      expect(approve.out.stdout).toMatch(/state: +erased\n/);
      expect(approve.out.stdout).toMatch(
        /erased: +1 key\(s\) destroyed, 2 dossier\(s\), 2 person\.erased notice\(s\)/,
      );

      const refuse = io(hub.url);
      expect(
        await runCli(
          ['erasure', 'refuse', ID, '--basis', 'Luật 91/2025 Điều 14', '--note', 'sổ'],
          refuse.cli,
        ),
      ).toBe(0);
      expect(hub.seen.at(-1)?.body).toEqual({ basis: 'Luật 91/2025 Điều 14', note: 'sổ' });
      expect(refuse.out.stdout).toMatch(/state: +refused: Luật 91\/2025 Điều 14\n/);
      expect(refuse.out.stdout).toMatch(/refusal note: +sổ\n/);
    } finally {
      await hub.close();
    }
  });

  it('needs an ID and a basis (usage error, nothing sent), and prints the hub’s problem', async () => {
    const hub = await fakeHub({
      [`POST /v1/admin/erasures/${ID}/approve`]: () => [
        409,
        {
          type: 'https://lgsp-hub.vn/problems/conflict',
          title: 'Expected version conflict',
          status: 409,
          detail: `erasure request ${ID} is erased already: it cannot be approved`,
        },
      ],
    });
    try {
      const noBasis = io(hub.url);
      expect(await runCli(['erasure', 'refuse', ID], noBasis.cli)).toBe(2);
      expect(noBasis.out.stderr).toContain('--basis');
      const noId = io(hub.url);
      expect(await runCli(['erasure', 'show'], noId.cli)).toBe(2);
      expect(hub.seen).toEqual([]);
      const twice = io(hub.url);
      expect(await runCli(['erasure', 'approve', ID], twice.cli)).toBe(3);
      expect(twice.out.stderr).toContain('is erased already');
    } finally {
      await hub.close();
    }
  });
});
