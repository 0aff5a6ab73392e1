import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '#lgsp/hub-config';
import { DEFAULT_MIX, type Mix } from './planner.js';
import type { RunOptions } from './runner.js';

export const USAGE = `npm run demo -- [options]   (or node dist/apps/simulators/src/demo/main.js [options])

Plays dossier lifecycles against a running hub over POST /v1/events, as commune one-stop shops would.

Hub and clients:
  --url URL              the hub (env LGSP_URL, default http://127.0.0.1:3000)
  --token TOKEN          admin token, used to create the demo's own clients (env LGSP_TOKEN; default the
                         token a local hub wrote to $LGSP_DATA_DIR/admin-token, ./data/admin-token)
  --client-token TOKEN   push every event with this commune/province client instead (env LGSP_CLIENT_TOKEN);
                         restrict --provinces/--communes to its scope
  --client-role ROLE     province (one client per province, default) or commune (one per commune)
  --units FILE           administrative-unit list, as the hub's (env LGSP_ADMIN_UNITS_FILE,
                         default the hub's sample reference/admin-units-sample.json)
  --provinces P1,P2      only these provinces     --communes C1,C2   only these communes
How much and how fast:
  --count N              lifecycles to play (env LGSP_DEMO_COUNT; default 100 unless --duration)
  --duration D           stop starting lifecycles after D (30s, 5m, 1500ms) (env LGSP_DEMO_DURATION)
  --rate R               lifecycles started per second, 0 = no limit (env LGSP_DEMO_RATE, default 10)
  --event-rate R         events per second over all dossiers, 0 = no limit (env LGSP_DEMO_EVENT_RATE, default 0)
  --concurrency N        lifecycles in flight at once (env LGSP_DEMO_CONCURRENCY, default 16)
  --step-delay MS        pause between two steps of one dossier (default 0)
  --mode MODE            structured (one event per request, default) or batch (--batch-size steps per request)
  --batch-size N         steps of a dossier per batch request (default 10)
  --mix K=V,...          shares: rejected, supplemented, withdrawn, payment-retried, payment-abandoned
                         (the citizen never pays: fee due 6, then 8 processing stopped), birth, online
                         (env LGSP_DEMO_MIX; default rejected=0.05,supplemented=0.1,withdrawn=0.03,
                         payment-retried=0.05,payment-abandoned=0.05,birth=0.3,online=0.6)
  --seed S               repeat a run's plans exactly (env LGSP_DEMO_SEED; default random, printed)
External systems:
  --connectors           payments and civil-registry results come from the external systems through the
                         hub's connectors (env LGSP_DEMO_CONNECTORS=1): the demo posts no payment or
                         civil-status event and none of the statuses the civil registry decides; after a
                         fee request (6) it waits until the hub shows the payment paid (then finishes 9 and
                         returns 10) or failed (then requests the fee again, up to --payment-attempts
                         requests, then stops processing with 8); a birth registration, after 4, waits
                         until the hub shows it finished (9: then returns 10) or rejected (3); a
                         payment-abandoned dossier: before its fee request the demo tells the payment
                         platform simulator (--payment-platform) to leave that payment pending, waits
                         --payment-deadline for it to stay undecided, then stops processing with 8
  --payment-platform URL the payment platform simulator of the hub's connector, where the citizens of
                         payment-abandoned dossiers abandon their payments (POST /_sim/payments/abandon)
                         (env LGSP_PAYMENTS_URL, as the hub; default ${DEFAULT_CONFIG.connectors.payments.url})
  --payment-deadline D   (--connectors) how long a payment-abandoned dossier waits after its fee request
                         before the commune stops it (env LGSP_DEMO_PAYMENT_DEADLINE, default 5s)
  --wait-timeout D       a lifecycle waiting longer is reported as stalled (env LGSP_DEMO_WAIT_TIMEOUT,
                         default 120s)
  --poll-interval D      pause between two reads of a waiting dossier (env LGSP_DEMO_POLL_INTERVAL, default 1s)
  --payment-attempts N   fee requests before a dossier whose payments fail is stopped
                         (env LGSP_DEMO_PAYMENT_ATTEMPTS, default 3)
Output:
  --progress MS          progress line on stderr every MS, 0 = none (default 1000)
  --json                 print the summary as JSON on stdout
  --dossiers-out FILE    write every dossier played (code, procedure, variation, final status, events; with
                         --connectors the external outcomes, and why it stalled) as JSON lines
  --max-retries N        attempts after a 429, 503 or network error before giving up (default 10)

Exit codes: 0 every lifecycle played (abandoned payments included: they end in 8 as planned);
1 a lifecycle failed (the reason is printed); 2 usage error;
3 (--connectors) a lifecycle stalled waiting on an external system (listed in the summary);
4 the hub could not be reached; 130 interrupted (SIGINT/SIGTERM: lifecycles posting are finished,
those waiting on an external system are reported as stalled).`;

export type ClientRole = 'province' | 'commune';
export type Mode = 'structured' | 'batch';

/** The demo's command line: a run (see {@link RunOptions}), where it goes, and how it reports. */
export interface DemoOptions extends RunOptions {
  url: string;
  adminToken: string | undefined;
  clientToken: string | undefined;
  clientRole: ClientRole;
  unitsFile: string | undefined;
  provinces: string[];
  communes: string[];
  progressMs: number;
  json: boolean;
  dossiersOut: string | undefined;
  maxRetries: number;
  /** The payment platform simulator where abandoned payments are declared. */
  paymentPlatform: string;
  help: boolean;
}

/** A bad flag or environment variable; the message names it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function number(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  integer: boolean,
): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `${name}: ${JSON.stringify(text)} must be ${integer ? 'an integer' : 'a number'} >= ${min}`,
    );
  }
  return value;
}

/** `30s`, `5m`, `1500ms`, `1h` or plain seconds, in milliseconds. */
export function parseDuration(name: string, text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null)
    throw new UsageError(`${name}: ${JSON.stringify(text)} must be a duration like 30s, 5m or 1500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  return Number(match[1]) * unit;
}

const MIX_KEYS: Record<string, keyof Mix> = {
  rejected: 'rejected',
  supplemented: 'supplemented',
  withdrawn: 'withdrawn',
  'payment-retried': 'paymentRetried',
  'payment-abandoned': 'paymentAbandoned',
  birth: 'birth',
  online: 'online',
};

/** `rejected=0.1,birth=0.5`: shares from 0 to 1 over DEFAULT_MIX; the variations may not add up to more than 1. */
export function parseMix(name: string, text: string | undefined): Mix {
  const mix = { ...DEFAULT_MIX };
  if (text === undefined || text.trim() === '') return mix;
  for (const part of text.split(',')) {
    const [key = '', value] = part.split('=').map((s) => s.trim());
    const field = MIX_KEYS[key];
    if (field === undefined) {
      throw new UsageError(
        `${name}: unknown share ${JSON.stringify(key)}; known: ${Object.keys(MIX_KEYS).join(', ')}`,
      );
    }
    const share = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(share) || share < 0 || share > 1) {
      throw new UsageError(
        `${name}: ${key} must be a share from 0 to 1 (got ${JSON.stringify(value ?? '')})`,
      );
    }
    mix[field] = share;
  }
  const variations =
    mix.rejected + mix.supplemented + mix.withdrawn + mix.paymentRetried + mix.paymentAbandoned;
  if (variations > 1 + 1e-9) {
    throw new UsageError(
      `${name}: rejected + supplemented + withdrawn + payment-retried + payment-abandoned is ${variations}, more than 1`,
    );
  }
  return mix;
}

function codes(name: string, text: string | undefined, digits: number): string[] {
  if (text === undefined || text === '') return [];
  const list = text.split(',').map((s) => s.trim());
  const bad = list.find((c) => !new RegExp(`^[0-9]{${digits}}$`).test(c));
  if (bad !== undefined)
    throw new UsageError(`${name}: ${JSON.stringify(bad)} is not a ${digits}-digit code`);
  return list;
}

/** The admin token a hub started from this folder generated (`npm start`), if there is one. */
function localAdminToken(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(env['LGSP_DATA_DIR'] || 'data', 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Reads the flags over the environment; validated once, a bad value names its flag or variable. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        'client-token': { type: 'string' },
        'client-role': { type: 'string' },
        units: { type: 'string' },
        provinces: { type: 'string' },
        communes: { type: 'string' },
        count: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        'event-rate': { type: 'string' },
        concurrency: { type: 'string' },
        'step-delay': { type: 'string' },
        mode: { type: 'string' },
        'batch-size': { type: 'string' },
        mix: { type: 'string' },
        seed: { type: 'string' },
        connectors: { type: 'boolean' },
        'wait-timeout': { type: 'string' },
        'poll-interval': { type: 'string' },
        'payment-attempts': { type: 'string' },
        'payment-deadline': { type: 'string' },
        'payment-platform': { type: 'string' },
        progress: { type: 'string' },
        json: { type: 'boolean' },
        'dossiers-out': { type: 'string' },
        'max-retries': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const flagOrEnv = (flag: string, variable: string): [string, string | undefined] => {
    const fromFlag = values[flag as keyof typeof values];
    if (typeof fromFlag === 'string') return [`--${flag}`, fromFlag];
    return [variable, env[variable]];
  };

  const clientRole = values['client-role'] ?? env['LGSP_DEMO_CLIENT_ROLE'] ?? 'province';
  if (clientRole !== 'province' && clientRole !== 'commune') {
    throw new UsageError(`--client-role: ${JSON.stringify(clientRole)} must be province or commune`);
  }
  const mode = values.mode ?? 'structured';
  if (mode !== 'structured' && mode !== 'batch') {
    throw new UsageError(`--mode: ${JSON.stringify(mode)} must be structured or batch`);
  }
  const [durationName, durationText] = flagOrEnv('duration', 'LGSP_DEMO_DURATION');
  const durationMs =
    durationText === undefined || durationText === '' ? Infinity : parseDuration(durationName, durationText);
  const [countName, countText] = flagOrEnv('count', 'LGSP_DEMO_COUNT');
  const count = number(countName, countText, durationMs === Infinity ? 100 : Infinity, 1, true);
  const duration = (flag: string, variable: string, fallback: number): number => {
    const [name, text] = flagOrEnv(flag, variable);
    if (text === undefined || text === '') return fallback;
    const ms = parseDuration(name, text);
    if (!(ms > 0)) throw new UsageError(`${name}: ${JSON.stringify(text)} must be longer than 0`);
    return ms;
  };
  const connectorsText = env['LGSP_DEMO_CONNECTORS'];
  if (connectorsText !== undefined && !['', '0', '1', 'false', 'true'].includes(connectorsText)) {
    throw new UsageError(
      `LGSP_DEMO_CONNECTORS: ${JSON.stringify(connectorsText)} must be 1, 0, true or false`,
    );
  }
  const url = values.url ?? env['LGSP_URL'] ?? 'http://127.0.0.1:3000';
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url: ${JSON.stringify(url)} is not a URL`);
  }
  const paymentPlatform =
    values['payment-platform'] ?? (env['LGSP_PAYMENTS_URL'] || DEFAULT_CONFIG.connectors.payments.url);
  try {
    new URL(paymentPlatform);
  } catch {
    throw new UsageError(`--payment-platform: ${JSON.stringify(paymentPlatform)} is not a URL`);
  }
  const adminToken = values.token ?? (env['LGSP_TOKEN'] || localAdminToken(env));
  const clientToken = values['client-token'] ?? env['LGSP_CLIENT_TOKEN'] ?? undefined;
  const help = values.help === true;
  if (!help && !adminToken && !clientToken) {
    throw new UsageError(
      'no token: give --token (or LGSP_TOKEN), the admin token with which the demo creates its clients, or --client-token',
    );
  }

  return {
    url,
    adminToken: adminToken || undefined,
    clientToken: clientToken || undefined,
    clientRole,
    unitsFile: values.units ?? (env['LGSP_ADMIN_UNITS_FILE'] || undefined),
    provinces: codes('--provinces', values.provinces, 2),
    communes: codes('--communes', values.communes, 5),
    count,
    durationMs,
    rate: number(...flagOrEnv('rate', 'LGSP_DEMO_RATE'), 10, 0, false),
    eventRate: number(...flagOrEnv('event-rate', 'LGSP_DEMO_EVENT_RATE'), 0, 0, false),
    concurrency: number(...flagOrEnv('concurrency', 'LGSP_DEMO_CONCURRENCY'), 16, 1, true),
    stepDelayMs: number('--step-delay', values['step-delay'], 0, 0, true),
    mode,
    batchSize: number('--batch-size', values['batch-size'], 10, 1, true),
    mix: parseMix(...flagOrEnv('mix', 'LGSP_DEMO_MIX')),
    seed: values.seed ?? env['LGSP_DEMO_SEED'] ?? Math.random().toString(36).slice(2, 10),
    connectors: values.connectors === true || connectorsText === '1' || connectorsText === 'true',
    waitTimeoutMs: duration('wait-timeout', 'LGSP_DEMO_WAIT_TIMEOUT', 120_000),
    pollMs: duration('poll-interval', 'LGSP_DEMO_POLL_INTERVAL', 1000),
    paymentAttempts: number(...flagOrEnv('payment-attempts', 'LGSP_DEMO_PAYMENT_ATTEMPTS'), 3, 1, true),
    paymentDeadlineMs: duration('payment-deadline', 'LGSP_DEMO_PAYMENT_DEADLINE', 5000),
    paymentPlatform,
    progressMs: number('--progress', values.progress, 1000, 0, true),
    json: values.json === true,
    dossiersOut: values['dossiers-out'],
    maxRetries: number('--max-retries', values['max-retries'], 10, 0, true),
    help,
  };
}
