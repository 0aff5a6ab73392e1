import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ANY_VERSION, verifyChain } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';

// The child runs the TypeScript sources through test/support/ts-hooks.mjs (swc, as jest does).
const child = fileURLToPath(new URL('./test-fixtures/append-until-killed.mjs', import.meta.url));

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lgsp-event-store-kill-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the appending child, SIGKILLs it once `killAfter` appends were acknowledged, returns the acks. */
async function appendUntilKilled(file: string, killAfter: number): Promise<Map<string, number>> {
  const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, signal) => resolve(signal)),
  );
  const acks = new Map<string, number>();
  for await (const line of createInterface({ input: proc.stdout })) {
    const [position, id] = line.split(' ');
    if (id === undefined || position === undefined) continue;
    acks.set(id, Number(position));
    if (acks.size === killAfter) proc.kill('SIGKILL');
  }
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the child ended without being killed: ${stderr}`);
  return acks;
}

describe('SqliteEventStore under kill -9', () => {
  it('keeps every acknowledged append and a valid chain when the writer is killed mid-stream', async () => {
    const file = join(dir, 'events.db');
    const acks = await appendUntilKilled(file, 3000);
    expect(acks.size).toBeGreaterThanOrEqual(3000);

    const store = SqliteEventStore.open({ file });
    try {
      const all = await store.readAll({ limit: 10_000_000 });
      expect(all.length).toBeGreaterThanOrEqual(acks.size);
      expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
      const byId = new Map(all.map((e) => [e.id, e.position]));
      const lost = [...acks].filter(([id, position]) => byId.get(id) !== position);
      expect(lost).toEqual([]);
      expect(verifyChain(all)).toEqual({ ok: true });

      const [next] = await store.append([
        {
          stream: 'dossier-after-crash',
          expectedVersion: ANY_VERSION,
          id: 'after-crash',
          source: '/communes/21040',
          type: 'vn.gov.lgsp.dossier.status-changed.v1',
          data: {},
          extensions: {},
        },
      ]);
      expect(next?.position).toBe(all.length + 1);
      const tail = await store.readAll({ after: all.length });
      expect(verifyChain(tail, all[all.length - 1]?.hash)).toEqual({ ok: true });
    } finally {
      await store.close();
    }
  }, 60_000);
});
