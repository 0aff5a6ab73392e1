import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryDelayMs } from './hub-client.js';
import { PaymentPlatformSimulator } from '#lgsp/simulators';
import { UsageError, parseOptions } from './options.js';
import { PaymentPlatformSandbox } from './payment-sandbox.js';
import { DEFAULT_MIX } from './planner.js';
import { DossierCodes } from './runner.js';

const AT = new Date('2025-11-23T02:15:00Z');
const AGENCY = '000.21.040.H51';

describe('DossierCodes', () => {
  it('proposes {agency}-{yyMMdd}-{counter} per agency and Vietnam day', () => {
    const codes = new DossierCodes();
    expect(codes.next(AGENCY, AT)).toBe('000.21.040.H51-251123-0001');
    expect(codes.next(AGENCY, AT)).toBe('000.21.040.H51-251123-0002');
    expect(codes.next('000.21.025.H51', AT)).toBe('000.21.025.H51-251123-0001');
    // 17:30 UTC is already the next day in Vietnam
    expect(codes.next(AGENCY, new Date('2025-11-23T17:30:00Z'))).toBe('000.21.040.H51-251124-0001');
  });

  it('skips ahead in growing strides past codes another producer holds, then steps by one again', () => {
    const codes = new DossierCodes();
    const proposals: string[] = [];
    for (;;) {
      const code = codes.next(AGENCY, AT);
      proposals.push(code.slice(-4));
      if (Number(code.slice(-4)) > 100) {
        codes.claimed(code);
        break;
      }
      codes.taken(code); // codes 1..100 belong to another run
    }
    expect(proposals).toEqual(['0001', '0003', '0007', '0015', '0031', '0063', '0127']);
    expect(codes.next(AGENCY, AT)).toBe('000.21.040.H51-251123-0128');
  });
});

describe('retryDelayMs', () => {
  it('follows Retry-After in seconds or as a date, else backs off with jitter up to 5 s', () => {
    expect(retryDelayMs(1, '2')).toBe(2000);
    expect(retryDelayMs(1, new Date(10_000).toUTCString(), 7_000)).toBe(3000);
    for (let attempt = 1; attempt < 20; attempt++) {
      const delay = retryDelayMs(attempt, null);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** (attempt - 1)));
    }
  });
});

describe('demo options', () => {
  it('reads flags over the environment, with documented defaults', () => {
    const o = parseOptions(['--count', '5', '--mix', 'birth=1,rejected=0.2'], {
      LGSP_TOKEN: 'adm',
      LGSP_DEMO_RATE: '3',
      LGSP_DEMO_CONCURRENCY: '4',
    });
    expect(o).toMatchObject({ count: 5, rate: 3, concurrency: 4, adminToken: 'adm', mode: 'structured' });
    expect(o.mix).toMatchObject({ birth: 1, rejected: 0.2, supplemented: 0.1 });
    expect(parseOptions(['--duration', '2m'], { LGSP_TOKEN: 'a' })).toMatchObject({
      durationMs: 120_000,
      count: Infinity,
    });
  });

  it('falls back to the admin token a local hub wrote to its data folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-demo-'));
    writeFileSync(join(dir, 'admin-token'), 'generated-token\n');
    expect(parseOptions([], { LGSP_DATA_DIR: dir }).adminToken).toBe('generated-token');
    expect(parseOptions([], { LGSP_DATA_DIR: dir, LGSP_TOKEN: 'given' }).adminToken).toBe('given');
  });

  it('reads the connectors mode and its waits, off by default', () => {
    expect(parseOptions([], { LGSP_TOKEN: 'a' })).toMatchObject({
      connectors: false,
      waitTimeoutMs: 120_000,
      pollMs: 1000,
      paymentAttempts: 3,
    });
    expect(
      parseOptions(
        ['--connectors', '--wait-timeout', '30s', '--poll-interval', '250ms', '--payment-attempts', '2'],
        {
          LGSP_TOKEN: 'a',
        },
      ),
    ).toMatchObject({ connectors: true, waitTimeoutMs: 30_000, pollMs: 250, paymentAttempts: 2 });
    expect(
      parseOptions([], { LGSP_TOKEN: 'a', LGSP_DEMO_CONNECTORS: '1', LGSP_DEMO_WAIT_TIMEOUT: '2m' }),
    ).toMatchObject({ connectors: true, waitTimeoutMs: 120_000 });
    const env = { LGSP_TOKEN: 'a' };
    expect(() => parseOptions([], { ...env, LGSP_DEMO_CONNECTORS: 'yes' })).toThrow(
      /^LGSP_DEMO_CONNECTORS: "yes"/,
    );
    expect(() => parseOptions(['--wait-timeout', '0'], env)).toThrow(
      /^--wait-timeout: "0" must be longer than 0/,
    );
    expect(() => parseOptions(['--poll-interval', 'soon'], env)).toThrow(/^--poll-interval: "soon"/);
    expect(() => parseOptions(['--payment-attempts', '0'], env)).toThrow(/^--payment-attempts: "0"/);
  });

  it('reads the abandoned payments: their share, the payment deadline and the payment platform simulator', () => {
    const env = { LGSP_TOKEN: 'a' };
    expect(parseOptions([], env)).toMatchObject({
      mix: { paymentAbandoned: DEFAULT_MIX.paymentAbandoned },
      paymentDeadlineMs: 5000,
      paymentPlatform: 'http://127.0.0.1:4104',
    });
    expect(DEFAULT_MIX.paymentAbandoned).toBeGreaterThan(0);
    // the payment platform the hub's connector uses, read from the same variable as the hub
    expect(
      parseOptions(['--mix', 'payment-abandoned=0.2', '--payment-deadline', '2s'], {
        ...env,
        LGSP_PAYMENTS_URL: 'http://127.0.0.1:24104',
      }),
    ).toMatchObject({
      mix: { paymentAbandoned: 0.2, rejected: DEFAULT_MIX.rejected },
      paymentDeadlineMs: 2000,
      paymentPlatform: 'http://127.0.0.1:24104',
    });
    expect(
      parseOptions(['--payment-platform', 'http://sim:9'], { ...env, LGSP_PAYMENTS_URL: 'http://x:1' })
        .paymentPlatform,
    ).toBe('http://sim:9');
    expect(parseOptions([], { ...env, LGSP_DEMO_PAYMENT_DEADLINE: '250ms' }).paymentDeadlineMs).toBe(250);
    expect(() => parseOptions(['--payment-platform', 'nowhere'], env)).toThrow(
      /^--payment-platform: "nowhere" is not a URL/,
    );
    expect(() => parseOptions(['--payment-deadline', '0'], env)).toThrow(/^--payment-deadline: "0"/);
    expect(() => parseOptions(['--mix', 'payment-retried=0.5,payment-abandoned=0.6'], env)).toThrow(
      /payment-abandoned is 1\.28, more than 1/,
    );
  });

  it('names the bad flag or variable', () => {
    const env = { LGSP_TOKEN: 'a' };
    expect(() => parseOptions(['--count', '0'], env)).toThrow(
      new UsageError('--count: "0" must be an integer >= 1'),
    );
    expect(() => parseOptions([], { ...env, LGSP_DEMO_RATE: 'fast' })).toThrow(/^LGSP_DEMO_RATE: "fast"/);
    expect(() => parseOptions(['--mix', 'rejected=0.6,withdrawn=0.6'], env)).toThrow(/more than 1/);
    expect(() => parseOptions(['--mix', 'lost=0.1'], env)).toThrow(/unknown share "lost"/);
    expect(() => parseOptions(['--communes', '2104'], env)).toThrow(/not a 5-digit code/);
    expect(() => parseOptions([], { LGSP_DATA_DIR: '/nonexistent' })).toThrow(/no token/);
  });
});

describe('PaymentPlatformSandbox', () => {
  const sim = new PaymentPlatformSimulator();
  let url = '';
  beforeAll(async () => {
    ({ url } = await sim.start());
  });
  afterAll(() => sim.stop());

  it('tells the payment platform simulator which payments their citizens abandon', async () => {
    await new PaymentPlatformSandbox(url).abandon('D1ZT1');
    // the payment is opened after: it stays pending (its plan says so)
    expect(sim.abandon('D1ZT1')).toEqual({ MaThamChieu: 'D1ZT1', TrangThaiGD: null });
  });

  it('says what to do when the simulator cannot be reached or refuses', async () => {
    await expect(new PaymentPlatformSandbox('http://127.0.0.1:9', 2000).abandon('D2ZT1')).rejects.toThrow(
      /cannot tell the payment platform simulator at http:\/\/127\.0\.0\.1:9 that payment D2ZT1 is abandoned .*--payment-platform.*payment-abandoned=0/,
    );
    await expect(new PaymentPlatformSandbox(url).abandon('no-such-ref!')).resolves.toBeUndefined();
    // an empty reference: the simulator answers 400 naming the field
    await expect(new PaymentPlatformSandbox(url).abandon('')).rejects.toThrow(
      /refused to leave payment {2}pending: 400 .*body\.MaThamChieu/,
    );
  });
});
