import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';

const ID = 'wh_01JEXAMPLE0000000000000000';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const webhook = (over: Record<string, unknown> = {}) => ({
  id: ID,
  url: 'https://province.example/hooks/lgsp',
  description: 'Sở Tư pháp Hà Nội',
  filter: { types: ['vn.gov.lgsp.dossier.submitted.v1'], provinces: ['01'] },
  ratePerSecond: 50,
  state: 'active',
  province: '01',
  createdBy: 'ha-noi-province',
  createdAt: '2026-12-01T08:00:00.000Z',
  updatedAt: '2026-12-01T08:00:00.000Z',
  checkpoint: 1234,
  lag: { events: 3, seconds: 0.4 },
  pending: 3,
  parked: 0,
  ...over,
});

const notFound = [
  404,
  {
    type: 'https://lgsp-hub.vn/problems/not-found',
    title: 'Not Found',
    status: 404,
    detail: 'no webhook wh_nope',
  },
] as [number, unknown];

describe('lgsp webhooks', () => {
  it('creates a webhook with its filter and rate, printing the secret once on stdout and never on stderr', async () => {
    const hub = await fakeHub({
      'POST /v1/webhooks': (_req, body) => [
        201,
        { webhook: webhook((body as { filter?: unknown }).filter ? {} : { filter: {} }), secret: SECRET },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      const args = ['webhooks', 'create', 'https://province.example/hooks/lgsp'];
      expect(
        await runCli(
          [
            ...args,
            '--description',
            'Sở Tư pháp Hà Nội',
            '--types',
            'vn.gov.lgsp.dossier.submitted.v1',
            '--provinces',
            '01, 79',
            '--rate',
            '12.5',
          ],
          cli,
        ),
      ).toBe(0);
      expect(hub.seen[0]).toEqual({
        method: 'POST',
        url: '/v1/webhooks',
        auth: 'Bearer ops-token',
        body: {
          url: 'https://province.example/hooks/lgsp',
          description: 'Sở Tư pháp Hà Nội',
          filter: { types: ['vn.gov.lgsp.dossier.submitted.v1'], provinces: ['01', '79'] },
          ratePerSecond: 12.5,
        },
      });
      expect(out.stdout).toMatch(new RegExp(`webhook: +${ID}\n`));
      expect(out.stdout).toMatch(/filter: +types vn\.gov\.lgsp\.dossier\.submitted\.v1 · provinces 01\n/);
      expect(out.stdout).toContain(`secret (shown only once, store it now): ${SECRET}\n`);
      expect(out.stderr).toBe('');

      const plain = io(hub.url);
      expect(await runCli([...args, '--json'], plain.cli)).toBe(0);
      expect(hub.seen[1]?.body).toEqual({ url: 'https://province.example/hooks/lgsp' });
      expect(JSON.parse(plain.out.stdout)).toEqual({ webhook: webhook({ filter: {} }), secret: SECRET });

      const bad = io(hub.url);
      expect(await runCli(['webhooks', 'create'], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('webhooks create needs the URL to deliver to');
      expect(await runCli(['webhooks', 'create', 'province.example/hooks'], bad.cli)).toBe(2);
      expect(await runCli(['webhooks', 'create', 'ftp://province.example/'], bad.cli)).toBe(2);
      expect(await runCli([...args, '--rate', '0'], bad.cli)).toBe(2);
      expect(await runCli([...args, '--rate', 'fast'], bad.cli)).toBe(2);
      expect(await runCli([...args, '--types', ' , '], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('--rate must be a positive number');
      expect(bad.out.stderr).toContain('--types needs at least an event type');
      expect(hub.seen).toHaveLength(2);
    } finally {
      await hub.close();
    }
  });

  it('lists webhooks as a table with their filter, lag, pending and parked, and the next cursor', async () => {
    const hub = await fakeHub({
      'GET /v1/webhooks': () => [
        200,
        {
          webhooks: [
            webhook(),
            webhook({
              id: 'wh_02',
              url: 'https://bo.example/lgsp',
              filter: {},
              state: 'disabled',
              lag: { events: 1500, seconds: 3600 },
              parked: 2,
            }),
          ],
          next: 'wh_02',
        },
      ],
    });
    const { cli, out } = io(hub.url);
    try {
      expect(await runCli(['webhooks', 'list', '--limit', '2', '--after', 'wh_00'], cli)).toBe(0);
      expect(hub.seen[0]!.url).toBe('/v1/webhooks?limit=2&after=wh_00');
      const lines = out.stdout.split('\n');
      expect(lines[0]).toMatch(/^ID +STATE +URL +FILTER +LAG +PENDING +PARKED$/);
      expect(lines[2]).toMatch(
        new RegExp(
          `^${ID} +active +https://province\\.example/hooks/lgsp +types vn\\.gov\\.lgsp\\.dossier\\.submitted\\.v1 · provinces 01 +3 ev, 0\\.4 s +3 +0$`,
        ),
      );
      expect(lines[3]).toMatch(
        /^wh_02 +disabled +https:\/\/bo\.example\/lgsp +all events +1500 ev, 3600\.0 s +3 +2$/,
      );
      expect(out.stdout).toContain('more: --after wh_02');
      const bad = io(hub.url);
      expect(await runCli(['webhooks', 'list', '--limit', '0'], bad.cli)).toBe(2);
      expect(hub.seen).toHaveLength(1);
    } finally {
      await hub.close();
    }
  });

  it('shows one webhook; an unknown (or out-of-scope) one prints the 404 problem and exits 3', async () => {
    const hub = await fakeHub({
      [`GET /v1/webhooks/${ID}`]: () => [
        200,
        {
          webhook: webhook({
            state: 'disabled',
            disabledAt: '2026-12-06T10:00:00.000Z',
            disabledReason: 'the endpoint answered 410 Gone',
            parked: 4,
            failingSince: '2026-12-06T09:00:00.000Z',
          }),
        },
      ],
      'GET /v1/webhooks/wh_nope': () => notFound,
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['webhooks', 'show', ID], cli)).toBe(0);
      expect(out.stdout).toMatch(
        /state: +disabled since 2026-12-06T10:00:00\.000Z: the endpoint answered 410 Gone\n/,
      );
      expect(out.stdout).toMatch(/lag: +3 events, 0\.4 s\n/);
      expect(out.stdout).toContain(`4 (lgsp parked list --target webhook:${ID})`);
      expect(out.stdout).toMatch(/failing since: +2026-12-06T09:00:00\.000Z/);
      expect(out.stdout).not.toContain('previous secret');

      const missing = io(hub.url);
      expect(await runCli(['webhooks', 'show', 'wh_nope'], missing.cli)).toBe(3);
      expect(missing.out.stderr).toBe('lgsp: 404 Not Found: no webhook wh_nope\n');
      expect(missing.out.stdout).toBe('');
    } finally {
      await hub.close();
    }
  });

  it('updates a webhook, merging filter flags into its current filter; nothing to change is a usage error', async () => {
    const hub = await fakeHub({
      [`GET /v1/webhooks/${ID}`]: () => [200, { webhook: webhook() }],
      [`PATCH /v1/webhooks/${ID}`]: (_req, body) => [
        200,
        { webhook: webhook(body as Record<string, unknown>) },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(
        await runCli(['webhooks', 'update', ID, '--rate', '5', '--url', 'https://new.example/h'], cli),
      ).toBe(0);
      expect(hub.seen.map((s) => [s.method, s.body])).toEqual([
        ['PATCH', { url: 'https://new.example/h', ratePerSecond: 5 }],
      ]);
      expect(out.stdout).toMatch(/url: +https:\/\/new\.example\/h\n/);
      expect(out.stdout).toMatch(/rate: +5\/s\n/);

      hub.seen.length = 0;
      expect(
        await runCli(
          ['webhooks', 'update', ID, '--communes', '00004,00007', '--provinces', ''],
          io(hub.url).cli,
        ),
      ).toBe(0);
      expect(hub.seen.map((s) => [s.method, s.body])).toEqual([
        ['GET', undefined],
        ['PATCH', { filter: { types: ['vn.gov.lgsp.dossier.submitted.v1'], communes: ['00004', '00007'] } }],
      ]);

      hub.seen.length = 0;
      const bad = io(hub.url);
      expect(await runCli(['webhooks', 'update', ID], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('webhooks update needs at least one of --url');
      expect(await runCli(['webhooks', 'update', '--rate', '5'], bad.cli)).toBe(2);
      expect(await runCli(['webhooks', 'update', ID, '--url', 'not a url'], bad.cli)).toBe(2);
      expect(hub.seen).toHaveLength(0);
    } finally {
      await hub.close();
    }
  });

  it('rotates the secret: the new one on stdout only, and until when the previous one signs', async () => {
    const hub = await fakeHub({
      [`POST /v1/webhooks/${ID}/rotate-secret`]: () => [
        200,
        {
          webhook: webhook({
            secretRotatedAt: '2026-12-06T10:00:00.000Z',
            previousSecretExpiresAt: '2026-12-07T10:00:00.000Z',
          }),
          secret: SECRET,
        },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['webhooks', 'rotate-secret', ID], cli)).toBe(0);
      expect(hub.seen[0]).toMatchObject({ method: 'POST', body: {} });
      expect(out.stdout).toBe(
        `secret (shown only once, store it now): ${SECRET}\n` +
          'the previous secret keeps signing until 2026-12-07T10:00:00.000Z: deliveries carry both signatures until then\n',
      );
      expect(out.stderr).toBe('');
      const json = io(hub.url);
      expect(await runCli(['webhooks', 'rotate-secret', ID, '--json'], json.cli)).toBe(0);
      expect(JSON.parse(json.out.stdout).secret).toBe(SECRET);
      expect(await runCli(['webhooks', 'rotate-secret'], json.cli)).toBe(2);
    } finally {
      await hub.close();
    }
  });

  it('enables, and disables with a reason', async () => {
    const hub = await fakeHub({
      [`POST /v1/webhooks/${ID}/enable`]: () => [
        200,
        { webhook: webhook({ lag: { events: 42, seconds: 9 } }) },
      ],
      [`POST /v1/webhooks/${ID}/disable`]: (_req, body) => [
        200,
        {
          webhook: webhook({
            state: 'disabled',
            disabledAt: '2026-12-06T10:00:00.000Z',
            disabledReason: (body as { reason?: string }).reason ?? 'disabled by ops',
          }),
        },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['webhooks', 'enable', ID], cli)).toBe(0);
      expect(await runCli(['webhooks', 'disable', ID, '--reason', 'endpoint moves'], cli)).toBe(0);
      expect(await runCli(['webhooks', 'disable', ID], cli)).toBe(0);
      expect(hub.seen.map((s) => [s.url, s.body])).toEqual([
        [`/v1/webhooks/${ID}/enable`, {}],
        [`/v1/webhooks/${ID}/disable`, { reason: 'endpoint moves' }],
        [`/v1/webhooks/${ID}/disable`, {}],
      ]);
      expect(out.stdout).toBe(
        `webhook ${ID} active; 42 events to catch up from position 1234\n` +
          `webhook ${ID} disabled: endpoint moves\n` +
          `webhook ${ID} disabled: disabled by ops\n`,
      );
      expect(await runCli(['webhooks', 'enable'], cli)).toBe(2);
      expect(await runCli(['webhooks', 'disable'], cli)).toBe(2);
      expect(hub.seen).toHaveLength(3);
    } finally {
      await hub.close();
    }
  });

  it('lists delivery attempts by position, with status, duration, outcome and the error', async () => {
    const hub = await fakeHub({
      [`GET /v1/webhooks/${ID}/attempts`]: () => [
        200,
        {
          attempts: [
            {
              seq: 7,
              at: '2026-12-06T10:00:00.000Z',
              position: 1235,
              messageId: 'msg_1',
              attempt: 1,
              durationMs: 15000,
              error: 'timeout after 15000 ms',
              outcome: 'retry',
            },
            {
              seq: 8,
              at: '2026-12-06T10:00:05.100Z',
              position: 1235,
              messageId: 'msg_1',
              attempt: 2,
              status: 204,
              durationMs: 31,
              outcome: 'delivered',
            },
          ],
          next: 8,
        },
      ],
    });
    const { cli, out } = io(hub.url);
    try {
      expect(
        await runCli(['webhooks', 'attempts', ID, '--limit', '2', '--after', '6', '--position', '1235'], cli),
      ).toBe(0);
      expect(hub.seen[0]!.url).toBe(`/v1/webhooks/${ID}/attempts?limit=2&after=6&position=1235`);
      expect(out.stdout).toMatch(/^SEQ +AT +POSITION +ATTEMPT +STATUS +DURATION +OUTCOME +ERROR\n/);
      expect(out.stdout).toMatch(
        /\n7 +2026-12-06T10:00:00\.000Z +1235 +1 +- +15000 ms +retry +timeout after 15000 ms\n/,
      );
      expect(out.stdout).toMatch(/\n8 +2026-12-06T10:00:05\.100Z +1235 +2 +204 +31 ms +delivered\n/);
      expect(out.stdout).toContain('more: --after 8');
      const bad = io(hub.url);
      expect(await runCli(['webhooks', 'attempts', ID, '--position', '-1'], bad.cli)).toBe(2);
      expect(await runCli(['webhooks', 'attempts', ID, '--after', 'x'], bad.cli)).toBe(2);
      expect(await runCli(['webhooks', 'attempts'], bad.cli)).toBe(2);
      expect(hub.seen).toHaveLength(1);
    } finally {
      await hub.close();
    }
  });

  it('redelivers from a position; --from is required and must be a position', async () => {
    const hub = await fakeHub({
      [`POST /v1/webhooks/${ID}/redeliver`]: (_req, body) => [
        202,
        { webhook: webhook(), fromPosition: (body as { fromPosition: number }).fromPosition },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['webhooks', 'redeliver', ID, '--from', '1200'], cli)).toBe(0);
      expect(hub.seen[0]).toMatchObject({ method: 'POST', body: { fromPosition: 1200 } });
      expect(out.stdout).toBe(
        `webhook ${ID}: redelivering every event of its filter from position 1200 (with the same webhook-id as before)\n`,
      );
      const bad = io(hub.url);
      expect(await runCli(['webhooks', 'redeliver', ID], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('webhooks redeliver needs --from POSITION');
      expect(await runCli(['webhooks', 'redeliver', ID, '--from', '0'], bad.cli)).toBe(2);
      expect(await runCli(['webhooks', 'redeliver', ID, '--from', '2026-12-01T00:00:00Z'], bad.cli)).toBe(2);
      expect(bad.out.stderr).toContain('--from must be an integer from 1 to');
      expect(hub.seen).toHaveLength(1);
    } finally {
      await hub.close();
    }
  });

  it('deletes with --yes; asks on a terminal; without either deletes nothing (exit 2)', async () => {
    const hub = await fakeHub({
      [`GET /v1/webhooks/${ID}`]: () => [200, { webhook: webhook() }],
      [`DELETE /v1/webhooks/${ID}`]: (_req, _body, res) => {
        res.writeHead(204);
        res.end();
      },
      'DELETE /v1/webhooks/wh_nope': () => notFound,
    });
    try {
      const noTerminal = io(hub.url);
      expect(await runCli(['webhooks', 'delete', ID], noTerminal.cli)).toBe(2);
      expect(noTerminal.out.stderr).toContain('needs confirmation and there is no terminal to ask on');
      expect(hub.seen).toHaveLength(0);

      const questions: string[] = [];
      const declined = io(hub.url, {
        ask: async (q) => {
          questions.push(q);
          return 'n';
        },
      });
      expect(await runCli(['webhooks', 'delete', ID], declined.cli)).toBe(6);
      expect(questions).toEqual([
        `Delete webhook ${ID} (https://province.example/hooks/lgsp, types vn.gov.lgsp.dossier.submitted.v1 · provinces 01)? [y/N] `,
      ]);
      expect(declined.out.stderr).toContain('nothing was deleted');
      expect(hub.seen.map((s) => s.method)).toEqual(['GET']);

      const confirmed = io(hub.url, { ask: async () => 'yes' });
      expect(await runCli(['webhooks', 'delete', ID], confirmed.cli)).toBe(0);
      expect(confirmed.out.stdout).toBe(`deleted webhook ${ID}\n`);
      expect(hub.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'DELETE']);

      const yes = io(hub.url);
      expect(await runCli(['webhooks', 'delete', ID, '--yes', '--json'], yes.cli)).toBe(0);
      expect(JSON.parse(yes.out.stdout)).toEqual({ id: ID, deleted: true });
      expect(hub.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'DELETE', 'DELETE']);

      const missing = io(hub.url);
      expect(await runCli(['webhooks', 'delete', 'wh_nope', '-y'], missing.cli)).toBe(3);
      expect(missing.out.stderr).toBe('lgsp: 404 Not Found: no webhook wh_nope\n');
      expect(await runCli(['webhooks', 'delete', '--yes'], missing.cli)).toBe(2);
    } finally {
      await hub.close();
    }
  });

  it('--help describes the webhook commands; an unknown subcommand is a usage error', async () => {
    const { cli, out } = io('http://127.0.0.1:9');
    expect(await runCli(['--help'], cli)).toBe(0);
    for (const command of ['create URL', 'list', 'show ID', 'update ID', 'rotate-secret ID', 'attempts ID'])
      expect(out.stdout).toContain(`lgsp webhooks ${command}`);
    expect(out.stdout).toContain('lgsp webhooks redeliver ID --from POSITION');
    expect(await runCli(['webhooks', 'frobnicate', ID], cli)).toBe(2);
    expect(out.stderr).toContain('unknown command: webhooks frobnicate');
  });
});
