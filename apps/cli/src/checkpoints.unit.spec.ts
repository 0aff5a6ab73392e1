import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';

const HEAD = {
  format: 'lgsp-checkpoints/v1',
  algorithm: 'Ed25519',
  keyId: 'ed25519:0123456789abcdef0123456789abcdef',
  publicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
};

const checkpoint = (position: number) => ({
  position,
  chainHash: String(position % 10).repeat(64),
  signedAt: '2026-12-06T08:00:00.000Z',
  keyId: HEAD.keyId,
  message: Buffer.from(`lgsp-checkpoint:v1:${position}`).toString('base64'),
  signature: `sig${position}`,
});

/** A hub keeping checkpoints at 1000, 2000… `count`×1000, answered `pageSize` at a time. */
async function hubWith(count: number, pageSize: number) {
  const all = Array.from({ length: count }, (_, i) => checkpoint((i + 1) * 1000));
  return fakeHub({
    'GET /v1/admin/checkpoints': (req) => {
      const after = Number(new URL(req.url!, 'http://x').searchParams.get('after') ?? 0);
      const page = all.filter((c) => c.position > after).slice(0, pageSize);
      const more = all.filter((c) => c.position > after).length > pageSize;
      return [200, { ...HEAD, checkpoints: page, ...(more ? { next: page.at(-1)!.position } : {}) }];
    },
  });
}

describe('lgsp checkpoints export', () => {
  it('--json writes the export document with every checkpoint, read page by page', async () => {
    const hub = await hubWith(5, 2);
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['checkpoints', 'export', '--json'], cli)).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({
        ...HEAD,
        checkpoints: [1000, 2000, 3000, 4000, 5000].map(checkpoint),
      });
      expect(hub.seen.map((s) => s.url)).toEqual([
        '/v1/admin/checkpoints?after=0&limit=1000',
        '/v1/admin/checkpoints?after=2000&limit=1000',
        '/v1/admin/checkpoints?after=4000&limit=1000',
      ]);
      expect(hub.seen.every((s) => s.auth === 'Bearer ops-token')).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it('prints the public key and a table for people, and writes to --out saying where', async () => {
    const hub = await hubWith(2, 1000);
    try {
      const human = io(hub.url);
      expect(await runCli(['checkpoints', 'export'], human.cli)).toBe(0);
      expect(human.out.stdout).toContain(`Ed25519 public key ${HEAD.keyId}:\n${HEAD.publicKey}\n`);
      expect(human.out.stdout).toMatch(/POSITION\s+CHAIN HASH\s+SIGNED AT\s+SIGNATURE/);
      expect(human.out.stdout).toContain(`2000      ${'0'.repeat(64)}  2026-12-06T08:00:00.000Z  sig2000`);

      const written: [string, string][] = [];
      const toFile = io(hub.url, { writeFile: (path, text) => written.push([path, text]) });
      expect(await runCli(['checkpoints', 'export', '--json', '--out', 'cp.json'], toFile.cli)).toBe(0);
      expect(written).toHaveLength(1);
      expect(written[0]![0]).toBe('cp.json');
      expect(JSON.parse(written[0]![1])).toEqual({
        ...HEAD,
        checkpoints: [checkpoint(1000), checkpoint(2000)],
      });
      expect(JSON.parse(toFile.out.stdout)).toEqual({
        file: 'cp.json',
        keyId: HEAD.keyId,
        checkpoints: 2,
        last: 2000,
      });
    } finally {
      await hub.close();
    }
  });

  it('exits 3 with the problem when the hub refuses, 2 on a stray argument', async () => {
    const hub = await fakeHub({
      'GET /v1/admin/checkpoints': () => [
        404,
        { title: 'Not Found', detail: 'this hub signs no checkpoints' },
      ],
    });
    try {
      const { cli, out } = io(hub.url);
      expect(await runCli(['checkpoints', 'export'], cli)).toBe(3);
      expect(out.stderr).toContain('this hub signs no checkpoints');
      expect(await runCli(['checkpoints', 'export', 'extra'], io(hub.url).cli)).toBe(2);
    } finally {
      await hub.close();
    }
  });
});
