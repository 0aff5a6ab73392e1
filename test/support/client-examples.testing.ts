import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretKey, signV1 } from '#lgsp/webhooks';
import { COMMUNE, PROVINCE, dossierCode, getJson } from './events.js';
import {
  REPO_ROOT,
  createCommuneClient,
  eventually,
  runCli,
  startHubProcess,
  type HubProcess,
} from './hub-process.js';
import { freePort } from './kafka.js';

/**
 * The client examples of examples/ in one language (issue 19 part 4): a push of a dossier's lifecycle
 * and a webhook receiver, each run from the repository root by the command its header and the README
 * give, against a hub started for the language's spec.
 */
export interface ClientExample {
  /** As the push example's summary names it (`"example": "python"`). */
  language: string;
  /** The example's files, relative to the repository root; each says `Run: <command>` in its header. */
  pushFile: string;
  receiverFile: string;
  /** The commands (argv) that the README gives, run from the repository root. */
  push: string[];
  receiver: string[];
  /** Makes the toolchain ready (installs, resolves, compiles); throws naming what is missing. */
  prepare?: () => void;
  /** How long `prepare` may take. */
  prepareTimeoutMs?: number;
  /** The receiver's exit code after SIGTERM: 0, or 143 for a JVM (128 + 15, after its shutdown hooks). */
  stopExitCode?: number;
}

/** One JSON line a receiver prints per request (and `stopped` with the counts at the end). */
interface ReceiverLine {
  outcome: 'ok' | 'repeat' | 'out-of-order' | 'refused' | 'stopped';
  reason?: string;
  webhookId?: string;
  position?: number;
  stream?: string;
  streamVersion?: number;
  type?: string;
  replay?: string;
  verified: number;
  refused: number;
  repeats: number;
}

interface Running {
  lines: string[];
  output(): string;
  exited: Promise<number | null>;
  /** True once the process exited (or could not start). */
  done(): boolean;
  stop(): Promise<number | null>;
}

/**
 * The environment of an example: what the toolchains read from a developer's shell, without a locale
 * (the examples must print Vietnamese in UTF-8 under any).
 */
function exampleEnv(env: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'JAVA_HOME', 'MAVEN_OPTS'];
  const base = Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  return { ...base, ...env };
}

function start(argv: string[], env: Record<string, string>): Running {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('no command');
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: exampleEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let out = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    partial += d;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    // Maven writes colour resets (ESC[0m) even when told to be quiet.
    lines.push(...complete.map((l) => l.replaceAll('\u001b[0m', '')));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  let done = false;
  const exited = new Promise<number | null>((res) => {
    child.once('error', (e) => {
      out += `\n${String(e)}`;
      done = true;
      res(null);
    });
    // 'close', not 'exit': the last lines are read only once stdout is closed.
    child.once('close', (code) => {
      done = true;
      res(code);
    });
  });
  return {
    lines,
    output: () => out,
    exited,
    done: () => done,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function run(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; lines: string[] }> {
  const p = start(argv, env);
  const code = await p.exited;
  return { code, out: p.output(), lines: p.lines };
}

/** The `Run: …` commands an example's header gives. */
function runCommands(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/Run: (.+)$/gm)].map((m) => (m[1] ?? '').trim());
}

async function send(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const STATUS = 'vn.gov.lgsp.dossier.status-changed.v1';
const LIFECYCLE_TYPES = [
  'vn.gov.lgsp.dossier.submitted.v1',
  STATUS,
  STATUS,
  STATUS,
  'vn.gov.lgsp.payment.completed.v1',
  STATUS,
  STATUS,
];

/** Defines the spec of one language's examples. */
export function describeClientExample(example: ClientExample): void {
  describe(`the ${example.language} client examples, against a hub`, () => {
    let hub: HubProcess;
    let token: string;
    let webhookId: string;
    let secret: string;
    let receiverUrl: string;
    let receiver: Running | undefined;
    const code = dossierCode();
    const stream = `dossier-${code}`;

    const receiverLines = (): ReceiverLine[] =>
      receiver!.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ReceiverLine);
    const last = (): ReceiverLine => {
      const all = receiverLines();
      const line = all[all.length - 1];
      if (!line) throw new Error(`the receiver printed nothing:\n${receiver!.output()}`);
      return line;
    };
    /** `eventually`, failing with what the receiver printed. */
    const until = async <T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
      try {
        return await eventually(check, timeoutMs);
      } catch (error) {
        throw new Error(
          `not met in ${timeoutMs} ms; the receiver printed:\n${receiver?.output()}\n${await hubSide()}`,
          { cause: error },
        );
      }
    };
    /** The hub's tries of the webhook, oldest first (its attempts log). */
    const hubAttempts = async (): Promise<{ status?: number; outcome: string }[]> =>
      (await getJson(`${hub.url}/v1/webhooks/${webhookId}/attempts?limit=100`, hub.adminToken)).body
        .attempts as { status?: number; outcome: string }[];
    /** What the hub knows of its deliveries to the receiver: its tries and its webhook warnings. */
    const hubSide = async (): Promise<string> => {
      if (!hub || !webhookId) return '';
      const attempts = await hubAttempts().then(
        JSON.stringify,
        (err: unknown) => `(unreadable: ${String(err)})`,
      );
      const warnings = hub
        .output()
        .split('\n')
        .filter((l) => /webhook/i.test(l) && /"level":"(warn|error)"/.test(l))
        .slice(-20);
      return `the hub's tries: ${attempts}\nthe hub's warnings:\n${warnings.join('\n')}`;
    };
    const push = async (dossier: string, env: Record<string, string> = {}) => {
      const result = await run(example.push, {
        LGSP_URL: hub.url,
        LGSP_TOKEN: token,
        DOSSIER_CODE: dossier,
        ...env,
      });
      expect({ code: result.code, out: result.code === 0 ? '' : result.out }).toEqual({ code: 0, out: '' });
      const summary = JSON.parse(result.lines.filter((l) => l.trim() !== '').pop() ?? '{}') as unknown;
      return { ...result, summary };
    };

    beforeAll(
      async () => {
        example.prepare?.();
        hub = await startHubProcess({ env: { LGSP_WEBHOOKS_ALLOW_INSECURE: 'true' } });
        token = await createCommuneClient(hub, `${example.language}-example`, COMMUNE);
        const port = await freePort();
        receiverUrl = `http://127.0.0.1:${port}/hooks/lgsp`;
        const created = await runCli(
          [
            'webhooks',
            'create',
            receiverUrl,
            '--description',
            `${example.language} example`,
            '--communes',
            COMMUNE,
            '--json',
          ],
          { LGSP_URL: hub.url, LGSP_TOKEN: hub.adminToken },
        );
        if (created.code !== 0) throw new Error(`lgsp webhooks create failed: ${created.stderr}`);
        const answer = JSON.parse(created.stdout) as { webhook: { id: string }; secret: string };
        webhookId = answer.webhook.id;
        secret = answer.secret;
        const started = start(example.receiver, { LGSP_WEBHOOK_SECRET: secret, PORT: String(port) });
        receiver = started;
        const deadline = Date.now() + 60_000;
        while (!started.lines.includes(`listening on http://127.0.0.1:${port}`)) {
          if (started.done() || Date.now() > deadline) {
            throw new Error(`the receiver is not listening on ${port}:\n${started.output()}`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      (example.prepareTimeoutMs ?? 0) + 120_000,
    );

    afterAll(async () => {
      await receiver?.stop();
      await hub?.stop();
    });

    it('is linked from the README with the commands that run it', () => {
      const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
      for (const file of [example.pushFile, example.receiverFile]) {
        expect(readme).toContain(`](${file})`);
        const commands = runCommands(file);
        expect(commands.length).toBeGreaterThan(0);
        for (const command of commands) expect(readme).toContain(command);
      }
      expect(runCommands(example.pushFile).some((c) => c.endsWith(example.push.join(' ')))).toBe(true);
      expect(runCommands(example.receiverFile).some((c) => c.endsWith(example.receiver.join(' ')))).toBe(
        true,
      );
    });

    it('pushes a dossier lifecycle in binary and batch modes, through a conflict and a validation problem', async () => {
      const { out, summary } = await push(code);
      expect(summary).toEqual({
        example: example.language,
        dossierCode: code,
        accepted: 7,
        duplicates: 1,
        conflicts: 1,
        problems: 1,
        streamVersion: 7,
      });
      expect(out).toContain(`409 stream ${stream} is at version 2, expected 1`);
      expect(out).toMatch(/^422 Validation failed: 2 schema violation\(s\)$/m);
      expect(out).toMatch(/^\s+\/1\/data\/status: must be <= 10$/m);
      expect(out).toMatch(/^\s+\/1\/data\/changedAt: must match pattern /m);

      // The hub holds the lifecycle once, in order, as the commune sent it.
      const read = await getJson(`${hub.url}/v1/streams/${stream}`, token);
      expect(read.status).toBe(200);
      const events = (
        read.body.events as { event: Record<string, unknown> & { data: Record<string, unknown> } }[]
      ).map((e) => e.event);
      expect(read.body.version).toBe(7);
      expect(events.map((e) => e.type)).toEqual(LIFECYCLE_TYPES);
      expect(events.filter((e) => e.type === STATUS).map((e) => e.data.status)).toEqual([2, 4, 6, 9, 10]);
      expect(new Set(events.map((e) => e.source))).toEqual(new Set([`/communes/${COMMUNE}/one-stop-shop`]));
      expect(events[0]?.data).toMatchObject({
        dossierCode: code,
        provinceCode: PROVINCE,
        communeCode: COMMUNE,
        procedureName: 'Đăng ký khai sinh',
        applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      });
      const view = await eventually(async () => {
        const r = await getJson(`${hub.url}/v1/dossiers/${code}`, token);
        return r.status === 200 && r.body.streamVersion === 7 ? r.body : undefined;
      });
      expect(view).toMatchObject({
        status: 10,
        statusLabel: { vi: 'Đã trả kết quả', en: 'result returned' },
        payment: { state: 'paid', amountPaid: 50000 },
      });
    });

    it('prints the problems in Vietnamese with LGSP_ACCEPT_LANGUAGE=vi', async () => {
      const other = dossierCode();
      const { out, summary } = await push(other, { LGSP_ACCEPT_LANGUAGE: 'vi' });
      expect(summary).toMatchObject({
        dossierCode: other,
        accepted: 7,
        conflicts: 1,
        problems: 1,
        streamVersion: 7,
      });
      expect(out).toMatch(/^422 Dữ liệu không hợp lệ: 2 lỗi vi phạm lược đồ$/m);
      expect(out).toMatch(/^\s+\/1\/data\/status: phải <= 10$/m);
    });

    it('receives every event of the lifecycle once, verified and in order, and the hub sees them acknowledged', async () => {
      const mine = await until(async () => {
        const lines = receiverLines().filter((l) => l.stream === stream);
        return lines.length >= 7 ? lines : undefined;
      }, 30_000);
      expect(mine.map((l) => l.outcome)).toEqual(Array(7).fill('ok'));
      expect(mine.map((l) => l.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(mine.map((l) => l.type)).toEqual(LIFECYCLE_TYPES);
      expect(receiverLines().filter((l) => l.outcome === 'refused')).toEqual([]);

      const head = (await getJson(`${hub.url}/v1/events?limit=1`, hub.adminToken)).body.head as number;
      const view = await eventually(async () => {
        const r = await getJson(`${hub.url}/v1/webhooks/${webhookId}`, hub.adminToken);
        const w = r.body.webhook as { checkpoint: number; pending: number; parked: number };
        return w.checkpoint === head && w.pending === 0 ? w : undefined;
      }, 30_000);
      expect(view.parked).toBe(0);
      const attempts = await hubAttempts();
      expect(attempts).toHaveLength(14); // both pushes' lifecycles
      expect(new Set(attempts.map((a) => `${a.status} ${a.outcome}`))).toEqual(new Set(['204 delivered']));
    });

    it("drops the hub's redeliveries as repeats by webhook-id", async () => {
      const before = last();
      const first = receiverLines().find((l) => l.stream === stream && l.streamVersion === 1);
      const redeliver = await send(hub.url, hub.adminToken, 'POST', `/v1/webhooks/${webhookId}/redeliver`, {
        fromPosition: first?.position,
      });
      expect(redeliver.status).toBe(202);
      // A try that failed is made again on the hub's schedule (5 s, after up to 15 s of waiting for an
      // answer): the window leaves room for one.
      const repeatsOfStream = () =>
        receiverLines().filter((l) => l.stream === stream && l.outcome === 'repeat');
      await until(
        async () => (new Set(repeatsOfStream().map((l) => l.streamVersion)).size === 7 ? true : undefined),
        60_000,
      );
      // Every redelivery acknowledged, as the hub records it (the 14 first deliveries and the 14 sent
      // again): no try of them comes after this test.
      await until(
        async () =>
          (await hubAttempts()).filter((a) => a.outcome === 'delivered').length >= 28 ? true : undefined,
        60_000,
      );
      // A try the hub makes again (a connection that closed under it) is one more repeat, never a gap.
      const repeats = repeatsOfStream();
      expect([...new Set(repeats.map((l) => l.streamVersion))]).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(repeats.every((l) => l.replay?.startsWith('redeliver:'))).toBe(true);
      await until(async () => (last().repeats >= before.repeats + 14 ? true : undefined));
      expect(last().verified).toBe(before.verified);
    }, 150_000);

    it('refuses a delivery whose body, secret or time is not the hub’s, and takes either signature of a rotation', async () => {
      const key = secretKey(secret);
      const body = JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: `/communes/${COMMUNE}/one-stop-shop`,
        type: STATUS,
        time: '2026-12-06T09:15:00+07:00',
        lgspposition: 1_000_000,
        lgspstream: `dossier-${dossierCode()}`,
        lgspstreamversion: 3,
        data: { status: 4, note: 'Hồ sơ đã được chuyển xử lý' },
      });
      const now = Math.floor(Date.now() / 1000);
      const deliver = async (headers: Record<string, string>, payload = body) => {
        const before = receiverLines().length;
        const res = await fetch(receiverUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json', ...headers },
          body: payload,
        });
        const line = await until(async () => receiverLines()[before]);
        return { status: res.status, line };
      };
      const signed = (id: string, ts: number, k: Buffer = key, payload = body) => ({
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signV1(k, id, ts, payload),
      });
      const before = last();

      // Signed as the hub signs (libs/webhooks): taken.
      const good = await deliver(signed('msg_example_1', now));
      expect(good).toMatchObject({
        status: 204,
        line: { outcome: 'ok', webhookId: 'msg_example_1', streamVersion: 3 },
      });
      // One byte of the body changed: the signature no longer holds.
      const tampered = await deliver(signed('msg_example_2', now), body.replace('"status":4', '"status":9'));
      // Signed with another secret, too old, or not signed.
      const otherKey = await deliver(
        signed('msg_example_3', now, Buffer.from('another secret of 32 bytes......')),
      );
      const stale = await deliver(signed('msg_example_4', now - 600));
      const unsigned = await deliver({ 'webhook-id': 'msg_example_5', 'webhook-timestamp': String(now) });
      for (const refused of [tampered, otherKey, stale, unsigned]) {
        expect(refused).toMatchObject({ status: 401, line: { outcome: 'refused' } });
        expect(refused.line.reason).toEqual(expect.any(String));
      }
      // During a rotation the hub sends two signatures; the one under this secret is enough.
      const next = body.replace('"lgspstreamversion":3', '"lgspstreamversion":4');
      const old = signV1(Buffer.from('the previous secret, 32 bytes...'), 'msg_example_6', now, next);
      const rotation = await deliver(
        {
          ...signed('msg_example_6', now),
          'webhook-signature': `${old} ${signV1(key, 'msg_example_6', now, next)}`,
        },
        next,
      );
      expect(rotation).toMatchObject({
        status: 204,
        line: { outcome: 'ok', webhookId: 'msg_example_6', streamVersion: 4 },
      });
      expect(last()).toMatchObject({
        verified: before.verified + 2,
        refused: before.refused + 4,
        repeats: before.repeats,
      });
    });

    it('stops on SIGTERM, printing its counts', async () => {
      const counts = last();
      expect(await receiver!.stop()).toBe(example.stopExitCode ?? 0);
      expect(last()).toEqual({
        outcome: 'stopped',
        verified: counts.verified,
        refused: counts.refused,
        repeats: counts.repeats,
      });
    });
  });
}
