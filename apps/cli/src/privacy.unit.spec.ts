import { runCli } from './cli.js';
import { fakeHub, io } from './fake-hub.testing.js';
import { affectedCsv, csvCell } from './privacy.js';

const subject = (ref: string, name: string, id?: string) => ({
  subjectRef: ref,
  roles: ['applicant'],
  dossiers: ['000.00.15.H51-250701-0001'],
  firstSeen: '2026-03-01T01:00:00.000Z',
  lastSeen: '2026-03-01T02:00:00.000Z',
  fields: { fullName: name, ...(id === undefined ? {} : { idNumber: id }) },
});

const page = (subjects: unknown[], next?: string) => ({
  window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' },
  subjects,
  total: 3,
  erasedOmitted: true,
  scanned: { fromPosition: 10, throughPosition: 99, events: 42 },
  ...(next === undefined ? {} : { next }),
});

describe('lgsp privacy affected', () => {
  const WINDOW = ['--from', '2026-03-01T07:00:00+07:00', '--to', '2026-03-02T07:00:00+07:00'];

  async function withHub(run: (hub: Awaited<ReturnType<typeof fakeHub>>) => Promise<void>) {
    const hub = await fakeHub({
      'GET /v1/admin/privacy/affected': (req) => {
        const after = new URL(req.url!, 'http://x').searchParams.get('after');
        return [
          200,
          after === null
            ? page([subject('aaa', 'Nguyễn Văn An', '051190000001'), subject('bbb', 'Trần, "Bình"')], 'bbb')
            : page([subject('ccc', '=cmd()', '079190000002')]),
        ];
      },
    });
    try {
      await run(hub);
    } finally {
      await hub.close();
    }
  }

  it('pages through the API with the scope given and prints every subject with the count', async () =>
    withHub(async (hub) => {
      const { cli, out } = io(hub.url);
      const args = ['privacy', 'affected', ...WINDOW, '--province', '51,79', '--target', 'portal'];
      expect(await runCli(args, cli)).toBe(0);
      expect(hub.seen.map((s) => new URL(s.url, 'http://x').searchParams.get('after'))).toEqual([
        null,
        'bbb',
      ]);
      const first = new URL(hub.seen[0]!.url, 'http://x').searchParams;
      expect(Object.fromEntries(first)).toEqual({
        from: '2026-03-01T07:00:00+07:00',
        to: '2026-03-02T07:00:00+07:00',
        province: '51,79',
        target: 'portal',
        limit: '1000',
      });
      expect(out.stdout).toContain('Nguyễn Văn An');
      expect(out.stdout).toContain('051190000001');
      expect(out.stdout).toMatch(/^ccc .*079190000002$/m);
      expect(out.stdout).toContain(
        '3 data subject(s) from 2026-03-01T00:00:00.000Z to 2026-03-02T00:00:00.000Z',
      );
      expect(out.stdout).toContain('left out and not counted');
    }));

  it('--json prints every page as one document; --csv as RFC 4180 rows', async () =>
    withHub(async (hub) => {
      const json = io(hub.url);
      expect(await runCli(['privacy', 'affected', ...WINDOW, '--json'], json.cli)).toBe(0);
      const doc = JSON.parse(json.out.stdout) as { subjects: { subjectRef: string }[]; total: number };
      expect(doc).toMatchObject({ total: 3, erasedOmitted: true });
      expect(doc.subjects.map((s) => s.subjectRef)).toEqual(['aaa', 'bbb', 'ccc']);

      const csv = io(hub.url);
      expect(await runCli(['privacy', 'affected', ...WINDOW, '--csv'], csv.cli)).toBe(0);
      const lines = csv.out.stdout.split('\r\n');
      expect(lines[0]).toBe(
        'subjectRef,roles,dossiers,firstSeen,lastSeen,fullName,idNumber,dateOfBirth,placeOfBirth,email,phone',
      );
      expect(lines[2]).toContain(',"Trần, ""Bình""",');
      expect(lines[3]).toContain(`,'=cmd(),079190000002,`);
      expect(lines).toHaveLength(5);
    }));

  it('needs the window (exit 2, nothing asked) and prints the hub refusal (exit 3)', async () => {
    const hub = await fakeHub({
      'GET /v1/admin/privacy/affected': () => [
        422,
        {
          type: 'https://lgsp-hub.vn/problems/invalid',
          title: 'Validation failed',
          status: 422,
          detail: 'the query of who was affected is not valid',
          errors: [{ pointer: '/to', message: 'must be at most 366 days after from' }],
        },
      ],
    });
    try {
      const missing = io(hub.url);
      expect(await runCli(['privacy', 'affected', '--from', '2026-03-01T00:00:00Z'], missing.cli)).toBe(2);
      expect(missing.out.stderr).toContain('needs --from and --to');
      expect(await runCli(['privacy', 'affected', ...WINDOW, '--json', '--csv'], missing.cli)).toBe(2);
      expect(hub.seen).toHaveLength(0);
      const refused = io(hub.url);
      expect(await runCli(['privacy', 'affected', ...WINDOW], refused.cli)).toBe(3);
      expect(refused.out.stderr).toContain('/to');
    } finally {
      await hub.close();
    }
  });

  it('quotes CSV cells and defuses formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('+84 90')).toBe("'+84 90");
    expect(csvCell(undefined)).toBe('');
    expect(affectedCsv([])).toBe(
      'subjectRef,roles,dossiers,firstSeen,lastSeen,fullName,idNumber,dateOfBirth,placeOfBirth,email,phone\r\n',
    );
  });
});
