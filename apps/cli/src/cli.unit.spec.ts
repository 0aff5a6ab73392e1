import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';

const run = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  target: 'portal',
  scope: {},
  state: 'running',
  by: 'ops',
  startedAt: '2026-11-23T09:00:00.000Z',
  progress: { expected: 10, scanned: 0, compared: 0 },
  mismatches: { total: 0, dossiers: 0, byCategory: {} },
  ...over,
});

const replay = (over: Record<string, unknown> = {}) => ({
  id: 'rp-1',
  target: 'portal',
  scope: {},
  unit: 'dossier',
  state: 'running',
  by: 'ops',
  createdAt: '2026-11-23T09:00:00.000Z',
  updatedAt: '2026-11-23T09:00:00.000Z',
  total: 4,
  done: 0,
  failed: 0,
  chunkSize: 100,
  ratePerSecond: 10,
  rate: 0,
  etaSeconds: null,
  ...over,
});

const plan = (n: number, confirmationRequired = false) => ({
  target: 'portal',
  scope: {},
  unit: 'dossier',
  dossiers: Array.from({ length: n }, (_, i) => `000.00.15.H12-250701-${String(i + 1).padStart(4, '0')}`),
  events: n * 3,
  firstEvent: {
    position: 5,
    recordedAt: '2026-11-01T01:00:00Z',
    type: 'gov.vn.lgsp.dossier.received.v1',
    dossier: 'D1',
  },
  lastEvent: {
    position: 90,
    recordedAt: '2026-11-02T01:00:00Z',
    type: 'gov.vn.lgsp.dossier.decided.v1',
    dossier: 'D9',
  },
  calls: n * 2,
  ratePerSecond: 10,
  estimatedSeconds: (n * 2) / 10,
  confirmationRequired,
  logPosition: 100,
});

describe('lgsp clients', () => {
  const client = (over: Record<string, unknown> = {}) => ({
    id: 'c-1',
    name: 'Xã Bình Sơn',
    role: 'commune',
    provinceCode: '51',
    communeCodes: ['21040'],
    sources: [],
    createdAt: '2026-11-23T09:00:00.000Z',
    ...over,
  });

  it('creates a client with a rate limit, the burst one second of it unless given', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/clients': (_req, body) => [
        201,
        { ...client(), rateLimit: (body as { rateLimit: unknown }).rateLimit, token: 'lgsp_t' },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      const args = ['clients', 'create', '--name', 'Xã Bình Sơn', '--communes', '21040'];
      expect(await runCli([...args, '--rate-limit', '2.5'], cli)).toBe(0);
      expect(hub.seen[0]?.body).toEqual({
        name: 'Xã Bình Sơn',
        communes: ['21040'],
        rateLimit: { ratePerSecond: 2.5, burst: 3 },
      });
      expect(out.stdout).toContain('communes 21040, rate limit 2.5/s, burst 3\n');
      expect(await runCli([...args, '--rate-limit', '50', '--burst', '500'], cli)).toBe(0);
      expect(hub.seen[1]?.body).toMatchObject({ rateLimit: { ratePerSecond: 50, burst: 500 } });
      expect(await runCli([...args], cli)).toBe(0);
      expect(hub.seen[2]?.body).not.toHaveProperty('rateLimit');

      const bad = io(hub.url);
      expect(await runCli([...args, '--rate-limit', 'default'], bad.cli)).toBe(2);
      expect(await runCli([...args, '--burst', '5'], bad.cli)).toBe(2);
      expect(await runCli([...args, '--rate-limit', '0'], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('--rate-limit must be a positive number');
      expect(hub.seen).toHaveLength(3);
    } finally {
      await hub.close();
    }
  });

  it('updates a client’s rate limit by name, or sends it back to the default', async () => {
    const hub = await fakeHub({
      'PATCH /v1/admin/clients/X%C3%A3%20B%C3%ACnh%20S%C6%A1n': (_req, body) => {
        const { rateLimit } = body as { rateLimit: unknown };
        return [200, client(rateLimit ? { rateLimit } : {})];
      },
      'PATCH /v1/admin/clients/nobody': () => [
        404,
        {
          type: 'https://lgsp-hub.vn/problems/not-found',
          title: 'Not found',
          status: 404,
          detail: 'no client has this name or id',
          errors: [],
        },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(
        await runCli(['clients', 'update', 'Xã Bình Sơn', '--rate-limit', '1', '--burst', '2'], cli),
      ).toBe(0);
      expect(hub.seen[0]).toMatchObject({
        method: 'PATCH',
        body: { rateLimit: { ratePerSecond: 1, burst: 2 } },
      });
      expect(out.stdout).toContain('updated client Xã Bình Sơn (c-1): rate limit 1/s, burst 2\n');
      expect(await runCli(['clients', 'update', 'Xã Bình Sơn', '--rate-limit', 'default'], cli)).toBe(0);
      expect(hub.seen[1]?.body).toEqual({ rateLimit: null });
      expect(out.stdout).toContain("updated client Xã Bình Sơn (c-1): the hub's default rate limit\n");

      const missing = io(hub.url);
      expect(await runCli(['clients', 'update', 'nobody', '--rate-limit', '1'], missing.cli)).toBe(3);
      expect(missing.out.stderr).toContain('no client has this name or id');
      expect(await runCli(['clients', 'update', 'nobody'], missing.cli)).toBe(2);
      expect(await runCli(['clients', 'update', '--rate-limit', '1'], missing.cli)).toBe(2);
      expect(hub.seen).toHaveLength(3);
    } finally {
      await hub.close();
    }
  });

  it('rotates a client’s token, printing the new one and until when the previous one works', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/clients/X%C3%A3%20B%C3%ACnh%20S%C6%A1n/rotate-token': () => [
        200,
        {
          client: client({ tokenIssuedAt: '2026-11-24T09:00:00.000Z' }),
          token: 'lgsp_new',
          previousTokenExpiresAt: '2026-11-25T09:00:00.000Z',
        },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['clients', 'rotate-token', 'Xã Bình Sơn'], cli)).toBe(0);
      expect(hub.seen[0]).toMatchObject({ method: 'POST', auth: 'Bearer ops-token' });
      expect(out.stdout).toBe(
        'new token of client Xã Bình Sơn (c-1), shown once, store it now: lgsp_new\n' +
          'the previous token keeps working until 2026-11-25T09:00:00.000Z\n',
      );
      const json = io(hub.url);
      expect(await runCli(['clients', 'rotate-token', 'Xã Bình Sơn', '--json'], json.cli)).toBe(0);
      expect(JSON.parse(json.out.stdout)).toMatchObject({ token: 'lgsp_new', client: { id: 'c-1' } });
      expect(await runCli(['clients', 'rotate-token'], json.cli)).toBe(2);
      expect(hub.seen).toHaveLength(2);
    } finally {
      await hub.close();
    }
  });

  it('revokes a client after confirmation: --yes, or yes on a terminal; nothing without', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/clients/c-1/revoke': () => [
        200,
        { client: client({ revokedAt: '2026-11-24T10:00:00.000Z' }) },
      ],
    });
    try {
      const noTerminal = io(hub.url);
      expect(await runCli(['clients', 'revoke', 'c-1'], noTerminal.cli)).toBe(2);
      expect(noTerminal.out.stderr).toContain('run again with --yes');
      const questions: string[] = [];
      const declined = io(hub.url, { ask: async (q) => (questions.push(q), 'n') });
      expect(await runCli(['clients', 'revoke', 'c-1'], declined.cli)).toBe(6);
      expect(questions).toEqual(['Revoke client c-1? Every token of it stops working at once. [y/N] ']);
      expect(hub.seen).toHaveLength(0);

      const confirmed = io(hub.url, { ask: async () => 'yes' });
      expect(await runCli(['clients', 'revoke', 'c-1'], confirmed.cli)).toBe(0);
      expect(confirmed.out.stdout).toBe('revoked client Xã Bình Sơn (c-1) at 2026-11-24T10:00:00.000Z\n');
      const scripted = io(hub.url);
      expect(await runCli(['clients', 'revoke', 'c-1', '--yes'], scripted.cli)).toBe(0);
      expect(hub.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /v1/admin/clients/c-1/revoke',
        'POST /v1/admin/clients/c-1/revoke',
      ]);
    } finally {
      await hub.close();
    }
  });
});

describe('lgsp reconcile', () => {
  it('starts a run with the scope flags, follows it and exits 5 with the counts per category', async () => {
    const states = [
      run('rc-1', { progress: { expected: 10, scanned: 6, compared: 5 } }),
      run('rc-1', {
        state: 'completed',
        finishedAt: '2026-11-23T09:00:12.000Z',
        progress: { expected: 10, scanned: 10, compared: 10 },
        mismatches: { total: 3, dossiers: 2, byCategory: { 'wrong-field': 2, 'stale-status': 1 } },
      }),
    ];
    const hub = await fakeHub({
      'POST /v1/admin/reconciliations': () => [202, { run: run('rc-1') }],
      'GET /v1/admin/reconciliations/rc-1': () => [200, { run: states.shift() ?? run('x'), mismatches: [] }],
    });
    const { cli, out } = io(hub.url);
    try {
      const code = await runCli(
        ['reconcile', 'run', '--target', 'portal', '--province', '51', '--dossiers-file', 'f.txt'],
        cli,
      );
      expect(code).toBe(5);
      expect(hub.seen[0]).toEqual({
        method: 'POST',
        url: '/v1/admin/reconciliations',
        auth: 'Bearer ops-token',
        body: {
          target: 'portal',
          scope: { provinceCode: '51', dossiers: ['000.00.15.H12-250701-0001', '000.00.15.H12-250701-0002'] },
        },
      });
      expect(out.stdout).toMatch(/state: +completed in 12s/);
      expect(out.stdout).toMatch(/wrong-field +2\n/);
      expect(out.stdout).toMatch(/stale-status +1\n/);
      expect(out.stdout).toMatch(/missing-in-target +0\n/);
      expect(out.stdout).toMatch(/total +3 \(2 dossiers\)/);
      // Not a terminal: plain lines, no bar.
      expect(out.stderr).toContain(
        'reconcile portal running: compared 5/10 (50%), scanned 6, 0 mismatches\n',
      );
      expect(out.stderr).not.toContain('[#');
    } finally {
      await hub.close();
    }
  });

  it('exits 0 when a run finds nothing, 6 when it failed, and prints {run} with --json', async () => {
    let final = run('rc-2', { state: 'completed' });
    const hub = await fakeHub({
      'POST /v1/admin/reconciliations': () => [202, { run: run('rc-2') }],
      'GET /v1/admin/reconciliations/rc-2': () => [200, { run: final, mismatches: [] }],
    });
    try {
      const ok = io(hub.url);
      expect(await runCli(['reconcile', 'run', '--target', 'portal', '--json'], ok.cli)).toBe(0);
      expect(JSON.parse(ok.out.stdout)).toEqual({ run: final, mismatches: [] });
      final = run('rc-2', { state: 'failed', error: 'the portal export failed' });
      const failed = io(hub.url);
      expect(await runCli(['reconcile', 'run', '--target', 'portal'], failed.cli)).toBe(6);
      expect(failed.out.stderr).toContain('reconciliation rc-2 failed: the portal export failed');
      const noWait = io(hub.url);
      expect(await runCli(['reconcile', 'run', '--target', 'portal', '--no-wait'], noWait.cli)).toBe(0);
      expect(noWait.out.stdout).toContain('lgsp reconcile show rc-2');
    } finally {
      await hub.close();
    }
  });

  it('shows a run with its mismatches, and refuses bad flags before calling the hub', async () => {
    const hub = await fakeHub({
      'GET /v1/admin/reconciliations/rc-3': () => [
        200,
        {
          run: run('rc-3', { state: 'completed' }),
          mismatches: [
            {
              seq: 1,
              dossier: 'D1',
              system: 'portal',
              field: 'TrangThaiHoSo',
              expected: '5',
              actual: null,
              category: 'stale-status',
              detectedAt: '2026-11-23T09:00:01Z',
            },
          ],
          next: 1,
        },
      ],
      'POST /v1/admin/reconciliations': () => [
        400,
        {
          title: 'Bad Request',
          detail: 'unknown target',
          errors: [{ pointer: '/target', message: 'unknown' }],
        },
      ],
    });
    try {
      const show = io(hub.url);
      expect(
        await runCli(['reconcile', 'show', 'rc-3', '--category', 'stale-status', '--limit', '5'], show.cli),
      ).toBe(0);
      expect(hub.seen[0]!.url).toBe('/v1/admin/reconciliations/rc-3?limit=5&category=stale-status');
      expect(show.out.stdout).toMatch(
        /1 +D1 +portal +TrangThaiHoSo +5 +- +stale-status +- +2026-11-23T09:00:01Z/,
      );
      expect(show.out.stdout).toContain('more: --after 1');
      const bad = io(hub.url);
      expect(await runCli(['reconcile', 'show', 'rc-3', '--category', 'nope'], bad.cli)).toBe(2);
      expect(await runCli(['reconcile', 'run', '--target', 'portal', '--from', 'yesterday'], bad.cli)).toBe(
        2,
      );
      expect(
        await runCli(
          ['reconcile', 'run', '--target', 'p', '--dossiers', 'a', '--dossiers-file', 'f'],
          bad.cli,
        ),
      ).toBe(2);
      expect(hub.seen).toHaveLength(1);
      const refused = io(hub.url);
      expect(await runCli(['reconcile', 'run', '--target', 'mars'], refused.cli)).toBe(3);
      expect(refused.out.stderr).toBe('lgsp: 400 Bad Request: unknown target\n  /target: unknown\n');
    } finally {
      await hub.close();
    }
  });
});

describe('lgsp replay', () => {
  const confirmingHub = (final: Record<string, unknown> = { state: 'completed', done: 4 }) => {
    const polls = [replay({ done: 2, rate: 2, etaSeconds: 1 }), replay(final)];
    return fakeHub({
      'POST /v1/admin/replays': (_req, body) =>
        (body as { confirm?: boolean }).confirm === true
          ? [201, { replay: replay(), plan: plan(4, true) }]
          : [
              409,
              {
                title: 'Conflict',
                detail:
                  'the replay would send 4 dossiers to portal, more than 2: send confirm: true to run it',
              },
            ],
      'POST /v1/admin/replays/plan': () => [200, { plan: plan(4, true) }],
      'GET /v1/admin/replays/rp-1': () => [200, { replay: polls.shift() ?? replay(final) }],
    });
  };

  it('without a terminal and without --yes, a replay needing confirmation starts nothing (exit 2)', async () => {
    const hub = await confirmingHub();
    const { cli, out } = io(hub.url);
    try {
      expect(await runCli(['replay', 'run', '--target', 'portal'], cli)).toBe(2);
      expect(hub.seen.map((s) => s.url)).toEqual(['/v1/admin/replays']);
      expect(out.stderr).toContain('more than 2: send confirm: true');
      expect(out.stderr).toContain('run again with --yes');
    } finally {
      await hub.close();
    }
  });

  it('asks on a terminal after showing the plan; yes starts it confirmed and follows it to completion', async () => {
    const hub = await confirmingHub();
    const questions: string[] = [];
    const { cli, out } = io(hub.url, {
      ask: async (q) => {
        questions.push(q);
        return 'y';
      },
    });
    try {
      expect(
        await runCli(
          [
            'replay',
            'run',
            '--target',
            'portal',
            '--types',
            'a.v1,b.v1',
            '--chunk-size',
            '2',
            '--rate',
            '2.5',
          ],
          cli,
        ),
      ).toBe(0);
      expect(questions).toEqual(['Replay 4 dossiers (12 events) to portal, about 1s? [y/N] ']);
      const posts = hub.seen.filter((s) => s.method === 'POST');
      expect(posts.map((s) => [s.url, s.body])).toEqual([
        [
          '/v1/admin/replays',
          { target: 'portal', scope: { types: ['a.v1', 'b.v1'] }, chunkSize: 2, ratePerSecond: 2.5 },
        ],
        ['/v1/admin/replays/plan', { target: 'portal', scope: { types: ['a.v1', 'b.v1'] } }],
        [
          '/v1/admin/replays',
          {
            target: 'portal',
            scope: { types: ['a.v1', 'b.v1'] },
            chunkSize: 2,
            ratePerSecond: 2.5,
            confirm: true,
          },
        ],
      ]);
      expect(out.stderr).toContain('first event:');
      expect(out.stderr).toContain('replay portal running: 2/4 (50%), 2.0/s, ETA 1s');
      expect(out.stdout).toMatch(/state: +completed/);
    } finally {
      await hub.close();
    }
  });

  it('a no at the prompt starts nothing (exit 6); --yes confirms at once; a cancelled run exits 6', async () => {
    const hub = await confirmingHub({ state: 'cancelled', done: 2 });
    try {
      const no = io(hub.url, { ask: async () => '' });
      expect(await runCli(['replay', 'run', '--target', 'portal'], no.cli)).toBe(6);
      expect(hub.seen.filter((s) => s.url === '/v1/admin/replays')).toHaveLength(1);
      expect(no.out.stderr).toContain('nothing was started');
      hub.seen.length = 0;
      const yes = io(hub.url);
      expect(await runCli(['replay', 'run', '--target', 'portal', '--yes', '--json'], yes.cli)).toBe(6);
      expect(hub.seen[0]!.body).toEqual({ target: 'portal', confirm: true });
      expect(JSON.parse(yes.out.stdout).replay.state).toBe('cancelled');
      expect(yes.out.stderr).toContain('replay rp-1 cancelled');
    } finally {
      await hub.close();
    }
  });

  it('plans: counts, first and last events, estimate and the first 20 dossiers', async () => {
    const hub = await fakeHub({ 'POST /v1/admin/replays/plan': () => [200, { plan: plan(25) }] });
    const { cli, out } = io(hub.url);
    try {
      expect(
        await runCli(['replay', 'plan', '--target', 'portal', '--from-reconciliation', 'rc-1'], cli),
      ).toBe(0);
      expect(hub.seen[0]!.body).toEqual({ target: 'portal', scope: { reconciliationRun: 'rc-1' } });
      expect(out.stdout).toMatch(/dossiers: +25\n/);
      expect(out.stdout).toMatch(/estimated: +5s\n/);
      expect(out.stdout).toContain('#5 2026-11-01T01:00:00Z gov.vn.lgsp.dossier.received.v1 D1');
      expect(out.stdout).toContain('000.00.15.H12-250701-0020');
      expect(out.stdout).not.toContain('000.00.15.H12-250701-0021');
      expect(out.stdout).toContain('… and 5 more');
    } finally {
      await hub.close();
    }
  });

  it('pauses with a note; a refused move is exit 3 with the problem; bad flags are exit 2', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/replays/rp-1/pause': () => [200, { replay: replay({ state: 'paused', done: 1 }) }],
      'POST /v1/admin/replays/rp-1/resume': () => [
        409,
        { title: 'Conflict', detail: 'replay rp-1 is completed: resume is not allowed' },
      ],
    });
    try {
      const paused = io(hub.url);
      expect(await runCli(['replay', 'pause', 'rp-1', '--note', 'night'], paused.cli)).toBe(0);
      expect(hub.seen[0]!.body).toEqual({ note: 'night' });
      expect(paused.out.stdout).toBe('replay rp-1 to portal: paused (1/4 done, 0 failed)\n');
      const refused = io(hub.url);
      expect(await runCli(['replay', 'resume', 'rp-1'], refused.cli)).toBe(3);
      expect(refused.out.stderr).toContain('409 Conflict: replay rp-1 is completed');
      const bad = io(hub.url);
      expect(await runCli(['replay', 'run', '--target', 'portal', '--chunk-size', '0'], bad.cli)).toBe(2);
      expect(await runCli(['replay', 'status'], bad.cli)).toBe(2);
      expect(await runCli(['replay', 'frobnicate'], bad.cli)).toBe(2);
      expect(hub.seen).toHaveLength(2);
    } finally {
      await hub.close();
    }
  });
});

describe('lgsp audit and events tail', () => {
  it('lists audit entries as a table with the next cursor', async () => {
    const hub = await fakeHub({
      'GET /v1/admin/audit': () => [
        200,
        {
          entries: [
            {
              id: 4,
              at: '2026-11-23T09:00:00Z',
              actor: 'ops',
              action: 'replay.run',
              subject: 'replay:rp-1',
              scope: { target: 'portal' },
              outcome: { total: 4 },
            },
          ],
          next: 4,
        },
      ],
    });
    const { cli, out } = io(hub.url);
    try {
      expect(await runCli(['audit', '--action', 'replay.', '--limit', '1'], cli)).toBe(0);
      expect(hub.seen[0]!.url).toBe('/v1/admin/audit?limit=1&action=replay.');
      expect(out.stdout).toMatch(
        /4 +2026-11-23T09:00:00Z +ops +replay\.run +replay:rp-1 +\{"target":"portal"\} +\{"total":4\}/,
      );
      expect(out.stdout).toContain('more: --after 4');
    } finally {
      await hub.close();
    }
  });

  it('tails over SSE, reconnects after the last position when the stream ends, and stops on Ctrl-C with 0', async () => {
    const sse = (position: number) =>
      `id: ${position}\nevent: t\ndata: ${JSON.stringify({
        position,
        stream: `dossier-D${position}`,
        streamVersion: 1,
        recordedAt: '2026-11-23T09:00:00Z',
        event: { type: 'gov.vn.lgsp.dossier.received.v1', time: '2026-11-23T16:00:00+07:00' },
      })}\n\n`;
    let connections = 0;
    const { cli, out, controller } = io('');
    const hub = await fakeHub({
      'GET /v1/events': (req, _body, res) => {
        connections++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (connections === 1) {
          res.end(`: keep-alive\n\n${sse(1)}${sse(2)}`);
        } else {
          res.write(sse(3));
          setTimeout(() => controller.abort(), 50);
        }
        expect(req.headers.accept).toBe('text/event-stream');
      },
    });
    try {
      const code = await runCli(['events', 'tail', '--type', 'gov.vn.lgsp.dossier.received.v1'], {
        ...cli,
        env: { LGSP_URL: hub.url, LGSP_TOKEN: 't' },
      });
      expect(code).toBe(0);
      expect(hub.seen.map((s) => s.url)).toEqual([
        '/v1/events?type=gov.vn.lgsp.dossier.received.v1',
        '/v1/events?after=2&type=gov.vn.lgsp.dossier.received.v1',
      ]);
      expect(out.stdout.split('\n').filter(Boolean)).toEqual([
        '       1  2026-11-23T16:00:00+07:00  gov.vn.lgsp.dossier.received.v1  D1',
        '       2  2026-11-23T16:00:00+07:00  gov.vn.lgsp.dossier.received.v1  D2',
        '       3  2026-11-23T16:00:00+07:00  gov.vn.lgsp.dossier.received.v1  D3',
      ]);
    } finally {
      await hub.close();
    }
  });

  it('exits 4 when the hub cannot be reached', async () => {
    const { cli, out } = io('http://127.0.0.1:9');
    expect(await runCli(['replay', 'list'], cli)).toBe(4);
    expect(out.stderr).toContain('cannot reach the hub at http://127.0.0.1:9');
  });
});

describe('the operator flow (issue 17)', () => {
  const extraPlan = {
    ...plan(0),
    scope: { reconciliationRun: 'rc-9' },
    dossiers: [],
    cannotFix: {
      category: 'unexpected-extra',
      dossiers: ['X1', 'X2'],
      advice:
        '2 records are in portal and never in the log: a replay sends the log and cannot remove or explain them.',
    },
    effects: 'the civil registry may re-issue certificates',
  };

  it('replay plan|run --from-reconciliation need no --target, say what a replay cannot fix and causes, and exit 8', async () => {
    const hub = await fakeHub({
      'POST /v1/admin/replays/plan': () => [200, { plan: extraPlan }],
      'POST /v1/admin/replays': () => [
        201,
        { replay: replay({ state: 'completed', total: 0 }), plan: extraPlan },
      ],
    });
    try {
      const planned = io(hub.url);
      expect(await runCli(['replay', 'plan', '--from-reconciliation', 'rc-9'], planned.cli)).toBe(8);
      expect(hub.seen[0]).toMatchObject({
        url: '/v1/admin/replays/plan',
        body: { scope: { reconciliationRun: 'rc-9' } },
      });
      expect(hub.seen[0]!.body).not.toHaveProperty('target');
      expect(planned.out.stdout).toContain(
        'Caused by this replay: the civil registry may re-issue certificates.',
      );
      expect(planned.out.stdout).toMatch(/Not fixable by a replay \(unexpected-extra, left out\): 2 records/);
      expect(planned.out.stdout).toContain('X1, X2');
      expect(planned.out.stdout).toContain('lgsp reconcile capture|acknowledge rc-9 SEQ');
      // A run already done in its answer is reported at once: no poll at all, even at the default 1 s.
      const ran = io(hub.url, { pollMs: 1000 });
      const started = Date.now();
      expect(await runCli(['replay', 'run', '--from-reconciliation', 'rc-9'], ran.cli)).toBe(8);
      expect(Date.now() - started).toBeLessThan(500);
      expect(hub.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /v1/admin/replays/plan',
        'POST /v1/admin/replays',
      ]);
      const bad = io(hub.url);
      expect(await runCli(['replay', 'plan'], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('needs --target');
    } finally {
      await hub.close();
    }
  });

  it('follows a short run at once: the first poll comes within tens of ms, not after a second', async () => {
    let polls = 0;
    const hub = await fakeHub({
      'POST /v1/admin/reconciliations': () => [202, { run: run('rc-5') }],
      'GET /v1/admin/reconciliations/rc-5': () => {
        polls++;
        return [200, { run: run('rc-5', { state: 'completed' }), mismatches: [] }];
      },
    });
    try {
      const { cli } = io(hub.url, { pollMs: 1000 });
      const started = Date.now();
      expect(await runCli(['reconcile', 'run', '--target', 'portal'], cli)).toBe(0);
      expect(Date.now() - started).toBeLessThan(500);
      expect(polls).toBe(1);
    } finally {
      await hub.close();
    }
  });

  it('reconcile show shows two long values from their first difference; run --json gives the mismatches and exit 8 for extras only', async () => {
    const long = (tail: string) => `Nguyễn Thị Hoà, thôn Bình Sơn, xã Bình Sơn, huyện Bình Sơn — ${tail}`;
    const extraRun = run('rc-6', {
      state: 'completed',
      mismatches: {
        total: 3,
        dossiers: 3,
        byCategory: { 'unexpected-extra': 2, 'wrong-field': 1 },
        resolved: 1,
      },
    });
    const mismatches = [
      {
        seq: 1,
        dossier: 'D1',
        system: 'portal',
        field: 'DiaChi',
        expected: long('số 12'),
        actual: long('số 21'),
        category: 'wrong-field',
        detectedAt: 't',
      },
      {
        seq: 2,
        dossier: 'X1',
        system: 'portal',
        field: '*',
        expected: null,
        actual: { MaHoSo: 'X1' },
        category: 'unexpected-extra',
        detectedAt: 't',
      },
      {
        seq: 3,
        dossier: 'X2',
        system: 'portal',
        field: '*',
        expected: null,
        actual: { MaHoSo: 'X2' },
        category: 'unexpected-extra',
        detectedAt: 't',
        resolution: { action: 'acknowledged', by: 'ops', at: 't', note: 'test record' },
      },
    ];
    let finalRun: Record<string, unknown> = extraRun;
    const hub = await fakeHub({
      'GET /v1/admin/reconciliations/rc-6': () => [200, { run: finalRun, mismatches, next: 3 }],
      'POST /v1/admin/reconciliations': () => [202, { run: run('rc-6') }],
    });
    try {
      const show = io(hub.url);
      expect(await runCli(['reconcile', 'show', 'rc-6'], show.cli)).toBe(5);
      const line = show.out.stdout.split('\n').find((l) => l.startsWith('1 '))!;
      expect(line).toContain('@65 …nh Sơn — số 12');
      expect(line).toContain('số 12');
      expect(line).toContain('số 21');
      expect(show.out.stdout).toMatch(/2 +X1 .*unexpected-extra +open \(no replay fixes it\)/);
      expect(show.out.stdout).toMatch(/3 +X2 .*unexpected-extra +acknowledged/);
      expect(show.out.stdout).toMatch(/captured or acknowledged +1/);
      const json = io(hub.url);
      expect(
        await runCli(['reconcile', 'run', '--target', 'portal', '--json', '--limit', '3'], json.cli),
      ).toBe(5);
      expect(JSON.parse(json.out.stdout)).toEqual({ run: extraRun, mismatches, next: 3 });
      expect(hub.seen.at(-1)!.url).toBe('/v1/admin/reconciliations/rc-6?limit=3');
      // Only an extra open: no replay can fix it.
      finalRun = {
        ...extraRun,
        mismatches: { total: 2, dossiers: 2, byCategory: { 'unexpected-extra': 2 }, resolved: 1 },
      };
      expect(await runCli(['reconcile', 'show', 'rc-6'], io(hub.url).cli)).toBe(8);
      finalRun = {
        ...extraRun,
        mismatches: { total: 2, dossiers: 2, byCategory: { 'unexpected-extra': 2 }, resolved: 2 },
      };
      expect(await runCli(['reconcile', 'show', 'rc-6'], io(hub.url).cli)).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('reconcile capture|acknowledge post to the finding, acknowledge needs a note', async () => {
    const resolved = (action: string) => ({
      mismatch: {
        seq: 2,
        dossier: 'X1',
        system: 'portal',
        field: '*',
        expected: null,
        actual: {},
        category: 'unexpected-extra',
        detectedAt: 't',
        resolution: { action, by: 'ops', at: 't', position: 77 },
      },
      run: run('rc-6', { state: 'completed' }),
    });
    const hub = await fakeHub({
      'POST /v1/admin/reconciliations/rc-6/mismatches/2/capture': () => [200, resolved('captured')],
      'POST /v1/admin/reconciliations/rc-6/mismatches/2/acknowledge': () => [200, resolved('acknowledged')],
    });
    try {
      const cap = io(hub.url);
      expect(await runCli(['reconcile', 'capture', 'rc-6', '2'], cap.cli)).toBe(0);
      expect(cap.out.stdout).toMatch(/resolution: +captured/);
      expect(cap.out.stdout).toMatch(/log position: +77/);
      const bad = io(hub.url);
      expect(await runCli(['reconcile', 'acknowledge', 'rc-6', '2'], bad.cli)).toBe(2);
      expect(await runCli(['reconcile', 'capture', 'rc-6', 'two'], bad.cli)).toBe(2);
      const ack = io(hub.url);
      expect(await runCli(['reconcile', 'acknowledge', 'rc-6', '2', '--note', 'test record'], ack.cli)).toBe(
        0,
      );
      expect(hub.seen.map((r) => [r.url, r.body])).toEqual([
        ['/v1/admin/reconciliations/rc-6/mismatches/2/capture', {}],
        ['/v1/admin/reconciliations/rc-6/mismatches/2/acknowledge', { note: 'test record' }],
      ]);
    } finally {
      await hub.close();
    }
  });
});
