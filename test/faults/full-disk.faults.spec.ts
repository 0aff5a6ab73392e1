import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, post } from '../support/events.js';
import { recoveryDisabled, runFault } from '../support/fault-verdict.js';
import {
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from '../support/hub-process.js';
import { lifecycle, readLog } from '../support/webhook-audit.js';

// Issue 18, fault suite: the disk under the SQLite store fills up while events arrive. The hub's
// data folder is a 128 MiB tmpfs the test mounts (the machine runs the suite as root; without the
// right to mount, the fault fails and says so); a file filling it is written, then deleted.
// Writes must be refused with a 503 problem (nothing half-written: the refused events are absent,
// the chain verifies), and accepted again once space returns.
// Recovery disabled: the filling file is left in place, so space never returns.

const FAULT = 'full-disk';
const WRITERS = 4;
/** The tmpfs: room for the hub's files, the filling file takes the rest. */
const DISK_MIB = 128;

/** Mounts a tmpfs of `size` on a new temporary folder; returns it. */
function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-fault-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(
      `the full-disk fault mounts a tmpfs and could not (${stderr || String(err)}): run it as root`,
      { cause: err },
    );
  }
  return dir;
}

/** Fills the file system under `dir` with one file until the kernel refuses more; returns its path. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
  } catch {
    // dd stops with "No space left on device": what it was for.
  }
  return filler;
}

const freeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

describe('fault: a full disk under the SQLite store', () => {
  let hub: HubProcess | undefined;
  let mounted: string | undefined;
  afterAll(async () => {
    await hub?.stop();
    if (mounted) {
      execFileSync('umount', [mounted]);
      rmSync(mounted, { recursive: true, force: true });
    }
  });

  it('refuses writes with a 503 problem, half-writes nothing, and takes writes again when space returns', async () => {
    await runFault(FAULT, async (v) => {
      const dir = mountTmpfs(`${DISK_MIB}m`);
      mounted = dir;
      hub = await startHubProcess({ dataDir: dir });
      const current = hub;
      const token = await createCommuneClient(current, 'fault-disk', '21040', [
        '--rate-limit',
        '10000',
        '--burst',
        '10000',
      ]);
      const acknowledged = new Set<string>();
      const refused = new Map<string, Record<string, unknown>>();
      const answers = new Map<string, number>();
      const badRefusals: string[] = [];
      /** Posts lifecycles from WRITERS connections until `stop()` says so. */
      const load = (stop: () => boolean): Promise<void[]> =>
        Promise.all(
          Array.from({ length: WRITERS }, async () => {
            while (!stop()) {
              for (const event of lifecycle()) {
                const res = await fetch(`${current.url}/v1/events`, {
                  method: 'POST',
                  headers: {
                    'content-type': 'application/cloudevents+json',
                    authorization: `Bearer ${token}`,
                  },
                  body: JSON.stringify(event),
                });
                const body = (await res.json()) as { type?: string; detail?: string };
                const key = `${res.status}`;
                answers.set(key, (answers.get(key) ?? 0) + 1);
                if (res.status === 201) {
                  acknowledged.add(event.id as string);
                  continue;
                }
                refused.set(event.id as string, event);
                const problem = res.headers.get('content-type')?.startsWith('application/problem+json');
                if (
                  res.status !== 503 ||
                  !problem ||
                  !res.headers.get('retry-after') ||
                  !body.type?.endsWith('/unavailable')
                )
                  badRefusals.push(
                    `${res.status} ${res.headers.get('content-type')} ${JSON.stringify(body)}`,
                  );
                break; // the rest of this lifecycle would not follow its refused event
              }
            }
          }),
        );

      // A bounded number of events on each side of the fault: the files' growth stays well within the
      // tmpfs whatever the machine's speed (the write-ahead log grows while the subscribers read it).
      let until = Date.now() + 3000;
      await load(() => Date.now() > until || acknowledged.size >= 500);
      const before = acknowledged.size;
      const filler = fill(dir);
      v.inject(
        `the hub's data folder is a ${DISK_MIB} MiB tmpfs; after ${before} events were acknowledged, a file filled it (${freeBytes(dir)} bytes left), then ${WRITERS} connections kept posting lifecycles for 5 s`,
      );
      until = Date.now() + 5000;
      await load(() => Date.now() > until);
      const duringAnswers = Object.fromEntries(answers);
      const sample = [...refused.values()][0];
      const sampleAnswer = sample
        ? await post(current.url, token, sample)
        : { status: 0, contentType: null, body: {} };

      v.check(
        'writes refused with a 503 problem (application/problem+json, type unavailable, Retry-After)',
        refused.size > 0 && badRefusals.length === 0,
        `${refused.size} refused, ${badRefusals.length} otherwise${badRefusals.length ? `: ${badRefusals[0]}` : ''}; answers ${JSON.stringify(duringAnswers)}; e.g. ${sampleAnswer.status} "${String(sampleAnswer.body.detail)}"`,
      );
      const reads = await getJson(`${current.url}/v1/events?after=0&limit=1`, current.adminToken);
      v.check(
        'reads still served while the disk is full',
        reads.status === 200,
        `GET /v1/events answered ${reads.status}`,
      );

      if (recoveryDisabled(FAULT)) v.inject('recovery disabled: the filling file is left in place');
      else {
        rmSync(filler);
        v.inject(`the filling file deleted (${freeBytes(dir)} bytes free)`);
      }
      const again = [...refused.values()].slice(0, 20);
      const retried = await Promise.all(again.map(async (e) => (await post(current.url, token, e)).status));
      v.check(
        'a refused event is accepted once space returns',
        retried.length > 0 && retried.every((s) => s === 201),
        `${retried.filter((s) => s === 201).length} of ${retried.length} sent again answered 201`,
      );
      again.forEach((e, i) => {
        if (retried[i] !== 201) return;
        refused.delete(e.id as string);
        acknowledged.add(e.id as string);
      });
      const refusedBefore = refused.size;
      const acknowledgedBefore = acknowledged.size;
      until = Date.now() + 1000;
      await load(() => Date.now() > until || acknowledged.size >= acknowledgedBefore + 300);
      v.check(
        'writes flow again',
        refused.size === refusedBefore,
        `${refused.size - refusedBefore} refused, ${acknowledged.size - acknowledgedBefore} acknowledged in up to 1 s of load after the space returned`,
      );

      /** Waits up to 30 s for every subscriber of `h` to reach the head; their lags either way. */
      const catchUp = async (h: HubProcess): Promise<{ ok: boolean; lags: Record<string, number> }> => {
        let lags: Record<string, number> = {};
        const ok = await eventually(async () => {
          const subs = await getJson(`${h.url}/v1/admin/subscriptions`, h.adminToken);
          const list = subs.body.subscriptions as { name: string; lagEvents: number }[];
          lags = Object.fromEntries(list.map((x) => [x.name, x.lagEvents]));
          return list.every((x) => x.lagEvents === 0) ? true : undefined;
        }, 30_000).catch(() => false);
        return { ok, lags };
      };
      const running = await catchUp(current);
      v.check(
        'every subscriber caught up once space returned, without a restart',
        running.ok,
        `lag ${JSON.stringify(running.lags)}`,
      );

      // A restart after the fault opens the same file.
      await current.kill();
      hub = await startHubProcess({ dataDir: dir, adminToken: current.adminToken });
      const log = await readLog(hub.url, hub.adminToken);
      const ids = new Set<string>();
      for (let after = 0; ;) {
        const page = await getJson(`${hub.url}/v1/events?after=${after}&limit=1000`, hub.adminToken);
        const events = page.body.events as { event: { id: string } }[];
        if (events.length === 0) break;
        for (const e of events) ids.add(e.event.id);
        after = page.body.next as number;
      }
      const missing = [...acknowledged].filter((id) => !ids.has(id));
      const halfWritten = [...refused.keys()].filter((id) => ids.has(id));
      v.check(
        'nothing half-written: every acknowledged event stored, no refused one, positions 1..n',
        missing.length === 0 && halfWritten.length === 0 && log.every((e, i) => e.position === i + 1),
        `${log.length} events after a restart, ${missing.length} acknowledged missing, ${halfWritten.length} refused but stored`,
      );
      const verified = await runCli(['verify', '--data-dir', dir], {});
      v.check(
        'the hash chain verifies (lgsp verify)',
        verified.code === 0,
        `exit ${verified.code}: ${verified.stdout.trim().split('\n').at(-1) ?? ''}`,
      );
      const restarted = await catchUp(hub);
      v.check(
        'every subscriber caught up after a restart',
        restarted.ok,
        `lag ${JSON.stringify(restarted.lags)}`,
      );
    });
  }, 300_000);
});
