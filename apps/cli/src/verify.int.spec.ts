import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ANY_VERSION } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import { runCli } from './cli.js';
import type { CliIo } from './io.js';

let dir: string;
let file: string;

function io(options: { clockStepMs?: number; interrupted?: boolean } = {}) {
  const out = { stdout: '', stderr: '' };
  const controller = new AbortController();
  if (options.interrupted) controller.abort();
  let clock = 0;
  const cli: CliIo = {
    env: {},
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    interrupt: controller.signal,
    readFile: () => '',
    plainProgressMs: 0,
    clock: { now: () => (clock += options.clockStepMs ?? 0) },
  };
  return { cli, out };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-cli-verify-'));
  file = join(dir, 'events.db');
  const store = SqliteEventStore.open({ file });
  await store.append(
    Array.from({ length: 3_500 }, (_, n) => ({
      stream: `dossier-${n % 11}`,
      expectedVersion: ANY_VERSION,
      id: `evt-${n}`,
      source: '/communes/21040',
      type: 'vn.gov.lgsp.dossier.status-changed.v1',
      data: { n },
      extensions: {},
    })),
  );
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lgsp verify (in process)', () => {
  it('says nothing on stderr for a quick walk, and shows progress once the walk takes a while', async () => {
    const quick = io();
    expect(await runCli(['verify', '--file', file], quick.cli)).toBe(0);
    expect(quick.out.stdout).toMatch(/^chain holds: 3500 events, head hash [0-9a-f]{64}\n$/);
    expect(quick.out.stderr).toBe('');

    const slow = io({ clockStepMs: 1000 });
    expect(await runCli(['verify', '--data-dir', dir], slow.cli)).toBe(0);
    expect(slow.out.stderr).toBe(
      'verified 1,000 of 3,500 events (28%)\n' +
        'verified 2,000 of 3,500 events (57%)\n' +
        'verified 3,000 of 3,500 events (85%)\n',
    );
  });

  it('stops on Ctrl-C with exit 130', async () => {
    const stopped = io({ interrupted: true });
    expect(await runCli(['verify', '--file', file], stopped.cli)).toBe(130);
    expect(stopped.out).toEqual({ stdout: '', stderr: 'lgsp: interrupted\n' });
  });

  it('prints the break as JSON for scripts, with where the swapped record is', async () => {
    const copy = join(dir, 'swapped.db');
    const db = new DatabaseSync(file);
    db.exec(`VACUUM INTO '${copy}'`);
    db.close();
    const tamper = new DatabaseSync(copy);
    tamper.exec(`UPDATE events SET position = -1 WHERE position = 2222;
      UPDATE events SET position = 2222 WHERE position = 3333;
      UPDATE events SET position = 3333 WHERE position = -1;`);
    tamper.close();
    const { cli, out } = io();
    expect(await runCli(['verify', '--file', copy, '--json'], cli)).toBe(7);
    expect(JSON.parse(out.stdout)).toEqual({
      ok: false,
      store: copy,
      events: 2221,
      break: {
        position: 2222,
        kind: 'out-of-order',
        reason:
          'the record stored at position 2222 does not follow position 2221; its own record is stored at position 3333',
        foundAt: 3333,
      },
    });
  });

  it('refuses contradictory flags and arguments with exit 2', async () => {
    for (const argv of [
      ['verify', '--file', file, '--data-dir', dir],
      ['verify', '--file', file, '--schema', 's'],
      ['verify', '--file', file, '--store', 'postgres://db/x'],
      ['verify', '--store', 'sqlite', '--schema', 'verify_x'],
      ['verify', '--store', 'postgres://127.0.0.1:1/x', '--data-dir', dir],
      ['verify', 'everything'],
    ]) {
      const { cli, out } = io();
      expect(await runCli(argv, cli)).toBe(2);
      expect(out.stderr).toMatch(/^lgsp: .+\nRun lgsp --help for usage.\n$/);
    }
  });
});
