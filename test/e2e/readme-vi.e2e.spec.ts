import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMUNE } from '../support/events.js';
import {
  REPO_ROOT,
  createCommuneClient,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';

// README.vi.md shows code that runs: its curl examples, in order, against a hub, each answering what
// its comment says; and every `lgsp` command it names is one the CLI knows, with flags it takes.
const readme = readFileSync(join(REPO_ROOT, 'README.vi.md'), 'utf8');
const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const curlBlocks = shellBlocks.filter((b) => b.startsWith('curl '));

/** The command of a block (comment lines dropped), and the answer its comment promises. */
function example(block: string): { command: string; status: number; answer: string } {
  const lines = block.trimEnd().split('\n');
  const comment = lines.filter((l) => l.startsWith('# ')).map((l) => l.slice(2).trim());
  const [first = ''] = comment;
  return {
    command: lines.filter((l) => !l.startsWith('# ')).join('\n'),
    status: Number(/^([0-9]{3}) /.exec(first)?.[1]),
    answer: comment.join('').replace(/^[0-9]{3} /, ''),
  };
}

function bash(command: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-c', `${command} -w '\\n%{http_code}'`], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('README.vi.md', () => {
  let hub: HubProcess;
  let token: string;

  beforeAll(async () => {
    hub = await startHubProcess();
    token = await createCommuneClient(hub, 'binh-son-one-stop', COMMUNE);
  });

  afterAll(async () => {
    await hub.stop();
  });

  it('has the quick start of README.md', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain('(README.vi.md)');
  });

  it('pushes events with its curl examples (structured, binary, batch), and gets its problem in Vietnamese', async () => {
    expect(curlBlocks).toHaveLength(4);
    for (const block of curlBlocks) {
      const { command, status, answer } = example(block);
      const { code, out } = await bash(command, { LGSP_URL: hub.url, TOKEN: token });
      expect(code).toBe(0);
      const body = out.slice(0, out.lastIndexOf('\n'));
      expect([command.slice(0, 60), Number(out.slice(out.lastIndexOf('\n') + 1))]).toEqual([
        command.slice(0, 60),
        status,
      ]);
      if (answer.includes('…')) {
        // Elided answers: the versions and positions they name are the ones the hub gave.
        for (const part of answer.match(/"(streamVersion|position|duplicate)":[a-z0-9]+/g) ?? []) {
          expect(body).toContain(part);
        }
      } else {
        expect(JSON.parse(body)).toEqual(JSON.parse(answer));
      }
    }
  });

  it('names only lgsp commands and flags the CLI has', async () => {
    const help = (await runCli(['--help'], {})).stdout;
    const commands = shellBlocks
      .flatMap((b) => b.split('\n'))
      .filter((l) => l.startsWith('npm run -s lgsp -- '))
      .map((l) => l.slice('npm run -s lgsp -- '.length));
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      const [group = '', verb = ''] = command.split(' ');
      const line = /^[a-z-]+$/.test(verb)
        ? new RegExp(`^ *lgsp ${group} [^\\n]*\\b${verb}\\b`, 'm')
        : new RegExp(`^ *lgsp ${group}\\b`, 'm');
      expect([command, line.test(help)]).toEqual([command, true]);
      for (const flag of command.match(/--[a-z-]+/g) ?? [])
        expect([command, help.includes(flag)]).toEqual([command, true]);
    }
  });
});
