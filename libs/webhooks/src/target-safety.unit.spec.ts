import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { DomainError } from '#lgsp/contracts';
import {
  MAX_WEBHOOK_URL_LENGTH,
  UnsafeTargetError,
  assertPublicIpLiteral,
  assertPublicTarget,
  isPublicAddress,
  parseWebhookUrl,
  safeLookup,
  type LookupAll,
} from './target-safety.js';

/** The error `fn` throws (or the promise rejects with); fails the test when there is none. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

async function refusal(fn: () => unknown): Promise<UnsafeTargetError> {
  const error = await caught(fn);
  expect(error).toBeInstanceOf(UnsafeTargetError);
  const unsafe = error as UnsafeTargetError;
  expect(unsafe).toBeInstanceOf(DomainError);
  expect(unsafe.code).toBe('invalid');
  expect(unsafe.retriable).toBe(false);
  expect(unsafe.issues).toEqual([{ pointer: '/url', message: unsafe.message }]);
  return unsafe;
}

const answer =
  (...addresses: string[]): LookupAll =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

/** {@link answer}, remembering the names it was asked for. */
function recording(...addresses: string[]): LookupAll & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign((hostname: string) => (asked.push(hostname), answer(...addresses)(hostname)), {
    asked,
  });
}

describe('isPublicAddress', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.0.3.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '198.51.99.255',
    '203.0.112.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '[2606:4700:4700::1111]',
    '2001:db9::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '2002:808:808::1',
    'fb00::1',
  ])('%s is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ['0.0.0.0', '0/8'],
    ['0.255.255.255', '0/8'],
    ['10.0.0.1', '10/8'],
    ['10.255.255.255', '10/8'],
    ['100.64.0.0', '100.64/10'],
    ['100.127.255.255', '100.64/10'],
    ['127.0.0.1', '127/8'],
    ['127.255.255.254', '127/8'],
    ['169.254.169.254', '169.254/16 (cloud metadata)'],
    ['169.254.0.0', '169.254/16'],
    ['172.16.0.0', '172.16/12'],
    ['172.31.255.255', '172.16/12'],
    ['192.0.0.8', '192.0.0/24'],
    ['192.0.2.1', '192.0.2/24'],
    ['192.168.0.1', '192.168/16'],
    ['192.168.255.255', '192.168/16'],
    ['198.18.0.1', '198.18/15'],
    ['198.19.255.255', '198.18/15'],
    ['198.51.100.7', '198.51.100/24'],
    ['203.0.113.9', '203.0.113/24'],
    ['224.0.0.1', '224/4'],
    ['239.255.255.250', '224/4'],
    ['240.0.0.1', '240/4'],
    ['255.255.255.254', '240/4'],
    ['255.255.255.255', 'broadcast'],
  ])('%s is not public (%s)', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    '::',
    '0:0:0:0:0:0:0:0',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    'fc00::1',
    'fdff:ffff:ffff::1',
    'fe80::1',
    'FE80::1',
    'febf:ffff::1',
    'fe80::1%eth0',
    '[fe80::1%25eth0]',
    'fec0::1',
    'ff02::1',
    'ff05::1:3',
    '2001:db8::1',
    '2001:0db8:ffff:ffff::1',
    '64:ff9b::8.8.8.8',
    '64:ff9b::808:808',
    '64:ff9b:1::1',
    '100::1',
    '100::ffff:ffff:ffff:ffff',
  ])('IPv6 %s is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::FFFF:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[::ffff:192.168.1.1]',
    '::127.0.0.1',
    '::10.0.0.1',
    '::ffff:0:10.0.0.1',
    '2002:7f00:1::1',
    '2002:a00:1::',
  ])('an IPv6 address carrying a non-public IPv4 (%s) is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['', 'localhost', 'example.com', '1.2.3', '256.1.1.1', '1.2.3.4.5', '::g', '2130706433'])(
    '%j is not an address, so not public',
    (text) => {
      expect(isPublicAddress(text)).toBe(false);
    },
  );
});

describe('parseWebhookUrl', () => {
  it('accepts an https URL to a public name or address and returns it parsed', () => {
    const url = parseWebhookUrl('https://hooks.example.com:8443/lgsp/events?tenant=79', false);
    expect(url.href).toBe('https://hooks.example.com:8443/lgsp/events?tenant=79');
    expect(parseWebhookUrl('https://93.184.216.34/x', false).hostname).toBe('93.184.216.34');
    expect(parseWebhookUrl('https://[2606:4700:4700::1111]/x', false).hostname).toBe(
      '[2606:4700:4700::1111]',
    );
  });

  it.each([
    ['http://127.0.0.1/hook', '127.0.0.1 is a loopback address'],
    ['https://10.0.0.1/hook', '10.0.0.1 is a private address'],
    ['https://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
  ])('refuses %s under the default configuration', async (raw, reason) => {
    const error = await refusal(() => parseWebhookUrl(raw, false));
    expect(error.message).toContain(reason);
    expect(error.message).toContain('webhooks.allowInsecureTargets');
  });

  it('names the URL, the address and the setting in the message, without the query', async () => {
    const error = await refusal(() => parseWebhookUrl('http://10.0.0.1/x?token=abc123', false));
    expect(error.message).toBe(
      'http://10.0.0.1/x: 10.0.0.1 is a private address; webhooks go to public addresses ' +
        '(set webhooks.allowInsecureTargets to allow it)',
    );
  });

  it.each([
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://0177.0.0.1/',
    'https://10.0.0.1./',
    'https://0/',
  ])('refuses the non-public IP literal in %s, however it is spelled', async (raw) => {
    await refusal(() => parseWebhookUrl(raw, false));
  });

  it.each([
    'https://localhost/',
    'https://LOCALHOST:8443/',
    'https://localhost./',
    'https://api.localhost/',
    'https://printer.local/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://router.home.arpa/',
  ])('refuses the local name in %s', async (raw) => {
    const error = await refusal(() => parseWebhookUrl(raw, false));
    expect(error.message).toContain('is a local name');
  });

  it('refuses plain http by default and says how to allow it', async () => {
    const error = await refusal(() => parseWebhookUrl('http://hooks.example.com/x', false));
    expect(error.message).toBe(
      'http://hooks.example.com/x: webhooks use https, not http (set webhooks.allowInsecureTargets to allow it)',
    );
  });

  it('lets http, loopback, private addresses and local names through when insecure targets are allowed', () => {
    for (const raw of [
      'http://hooks.example.com/x',
      'http://127.0.0.1:8080/hook',
      'http://10.0.0.1/x',
      'https://169.254.169.254/',
      'http://[::1]:3000/',
      'http://localhost:3000/hook',
      'http://receiver.internal/x',
    ]) {
      expect(parseWebhookUrl(raw, true).href).toBe(new URL(raw).href);
    }
  });

  it.each([
    'ftp://hooks.example.com/x',
    'file:///etc/passwd',
    'javascript:alert(document.cookie)',
    'data:text/plain,hello',
    'ws://hooks.example.com/x',
    'gopher://127.0.0.1:6379/_FLUSHALL',
  ])('refuses the scheme of %s, even when insecure targets are allowed', async (raw) => {
    for (const allowInsecure of [false, true]) {
      const error = await refusal(() => parseWebhookUrl(raw, allowInsecure));
      expect(error.message).toMatch(/^the scheme [a-z]+ is not allowed; webhooks use https$/);
    }
  });

  it.each([
    'https://alice:hunter2@hooks.example.com/x?token=abc123',
    'https://alice@hooks.example.com/x',
    'https://:hunter2@hooks.example.com/x',
    'http://alice:hunter2@127.0.0.1/x?token=abc123',
  ])('refuses credentials in %s, always, and never repeats them', async (raw) => {
    for (const allowInsecure of [false, true]) {
      const error = await refusal(() => parseWebhookUrl(raw, allowInsecure));
      expect(error.message).toContain('must not carry credentials');
      expect(error.message).not.toMatch(/alice|hunter2|abc123|token/);
    }
  });

  it.each([
    'https://hooks.example.com/x#part',
    'https://hooks.example.com/x#',
    'https://hooks.example.com/x?q=1#f',
  ])('refuses the fragment in %s', async (raw) => {
    const error = await refusal(() => parseWebhookUrl(raw, true));
    expect(error.message).toBe('https://hooks.example.com/x: a webhook URL must not have a fragment');
  });

  it.each(['', 'not a url', '/relative/path', 'hooks.example.com/x', 'https://', 'https://exa mple.com/'])(
    'refuses %j, which is not an absolute URL',
    async (raw) => {
      const error = await refusal(() => parseWebhookUrl(raw, true));
      expect(error.message).toBe('the webhook URL is not an absolute URL');
    },
  );

  it(`refuses a URL longer than ${MAX_WEBHOOK_URL_LENGTH} characters`, async () => {
    const base = 'https://hooks.example.com/';
    const longest = base + 'a'.repeat(MAX_WEBHOOK_URL_LENGTH - base.length);
    expect(parseWebhookUrl(longest, false).href).toBe(longest);
    const error = await refusal(() => parseWebhookUrl(longest + 'a', false));
    expect(error.message).toBe('the webhook URL is 2049 characters long; the limit is 2048');
    // é becomes %C3%A9: short enough as typed, too long as the hub would call it.
    const encoded = await refusal(() => parseWebhookUrl(base + 'é'.repeat(400), false));
    expect(encoded.message).toBe(
      `the webhook URL is ${base.length + 2400} characters long; the limit is 2048`,
    );
  });
});

describe('assertPublicIpLiteral', () => {
  it('refuses a non-public IP literal, bracketed or not, by default', async () => {
    for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '[::1]', '[::ffff:7f00:1]']) {
      await refusal(() => assertPublicIpLiteral(host, false));
    }
    const error = await refusal(() => assertPublicIpLiteral('[fd12::1]', false));
    expect(error.message).toBe(
      'fd12::1 is a unique local (private) address; webhooks go to public addresses ' +
        '(set webhooks.allowInsecureTargets to allow it)',
    );
  });

  it('lets public literals, host names and, when allowed, any literal through', () => {
    expect(() => assertPublicIpLiteral('8.8.8.8', false)).not.toThrow();
    expect(() => assertPublicIpLiteral('[2606:4700:4700::1111]', false)).not.toThrow();
    expect(() => assertPublicIpLiteral('hooks.example.com', false)).not.toThrow();
    expect(() => assertPublicIpLiteral('127.0.0.1', true)).not.toThrow();
  });
});

describe('assertPublicTarget', () => {
  const url = new URL('https://hooks.example.com/x');

  it('passes when every address of the name is public, and asks for the URL’s host', async () => {
    const lookup = recording('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946');
    await expect(assertPublicTarget(url, false, lookup)).resolves.toBeUndefined();
    expect(lookup.asked).toEqual(['hooks.example.com']);
  });

  it.each([
    [['93.184.216.34', '10.0.0.5'], '10.0.0.5, a private address'],
    [['10.0.0.5', '93.184.216.34'], '10.0.0.5, a private address'],
    [['2606:4700:4700::1111', '::1'], '::1, a loopback address'],
    [['93.184.216.34', '169.254.169.254'], '169.254.169.254, a link-local address'],
    [['::ffff:127.0.0.1'], '::ffff:127.0.0.1, an IPv4-mapped address for 127.0.0.1, a loopback address'],
  ])('refuses a name whose answer %j holds a non-public address', async (addresses, reason) => {
    const error = await refusal(() => assertPublicTarget(url, false, answer(...addresses)));
    expect(error.message).toBe(
      `https://hooks.example.com/x: hooks.example.com resolves to ${reason}; webhooks go to public addresses ` +
        '(set webhooks.allowInsecureTargets to allow it)',
    );
  });

  it('lets private answers through when insecure targets are allowed', async () => {
    await expect(assertPublicTarget(url, true, answer('10.0.0.5', '::1'))).resolves.toBeUndefined();
  });

  it('refuses a name that does not resolve, even when insecure targets are allowed', async () => {
    const notFound: LookupAll = () =>
      Promise.reject(
        Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' }),
      );
    for (const allowInsecure of [false, true]) {
      const error = await refusal(() => assertPublicTarget(url, allowInsecure, notFound));
      expect(error.message).toBe('https://hooks.example.com/x: hooks.example.com does not resolve');
      const empty = await refusal(() => assertPublicTarget(url, allowInsecure, answer()));
      expect(empty.message).toBe('https://hooks.example.com/x: hooks.example.com does not resolve');
    }
  });

  it('gives a retriable unavailable error, not a refusal, when the resolver fails for a while', async () => {
    const cause = Object.assign(new Error('getaddrinfo EAI_AGAIN hooks.example.com'), { code: 'EAI_AGAIN' });
    const error = await caught(() => assertPublicTarget(url, false, () => Promise.reject(cause)));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).not.toBeInstanceOf(UnsafeTargetError);
    expect(error).toMatchObject({ code: 'unavailable', retriable: true, cause });
  });

  it('checks an IP literal host without resolving it', async () => {
    const lookup = recording('93.184.216.34');
    await refusal(() => assertPublicTarget(new URL('https://10.0.0.1/x'), false, lookup));
    await refusal(() => assertPublicTarget(new URL('https://[::1]/x'), false, lookup));
    await expect(assertPublicTarget(new URL('https://8.8.8.8/x'), false, lookup)).resolves.toBeUndefined();
    await expect(assertPublicTarget(new URL('http://10.0.0.1/x'), true, lookup)).resolves.toBeUndefined();
    expect(lookup.asked).toEqual([]);
  });

  it('never repeats the URL’s credentials or query', async () => {
    const secret = new URL('https://alice:hunter2@hooks.example.com/x?token=abc123');
    const error = await refusal(() => assertPublicTarget(secret, false, answer('10.0.0.5')));
    expect(error.message).toMatch(/^https:\/\/hooks\.example\.com\/x: /);
    expect(error.message).not.toMatch(/alice|hunter2|abc123|token/);
  });

  it('resolves with the system resolver by default: localhost is refused', async () => {
    const error = await refusal(() => assertPublicTarget(new URL('https://localhost/x'), false));
    expect(error.message).toMatch(
      /^https:\/\/localhost\/x: localhost resolves to (127\.0\.0\.1|::1), a loopback/,
    );
  });
});

describe('safeLookup', () => {
  const call = (allowInsecure: boolean, hostname: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: unknown; address: string | LookupAddress[]; family?: number }>((resolve) => {
      safeLookup(allowInsecure)(hostname, options, (error, address, family) =>
        resolve({ error, address, family }),
      );
    });

  it('answers both callback shapes: an array with `all`, else one address and its family', async () => {
    expect(await call(false, '8.8.8.8', { all: true })).toMatchObject({
      error: null,
      address: [{ address: '8.8.8.8', family: 4 }],
    });
    expect(await call(false, '2606:4700:4700::1111', {})).toMatchObject({
      error: null,
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect(await call(true, 'localhost', { family: 4 })).toMatchObject({
      error: null,
      address: '127.0.0.1',
      family: 4,
    });
    const all = await call(true, 'localhost', { all: true });
    expect(all.error).toBeNull();
    expect(all.address).toEqual(
      expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]),
    );
  });

  it('calls back with an UnsafeTargetError for a non-public answer, in both shapes', async () => {
    for (const options of [{ all: true }, {}, { family: 4 }]) {
      const refused = await call(false, 'localhost', options);
      expect(refused.error).toBeInstanceOf(UnsafeTargetError);
      expect((refused.error as Error).message).toMatch(
        /^localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
      );
    }
    expect((await call(false, '10.0.0.1', {})).error).toBeInstanceOf(UnsafeTargetError);
  });

  it('passes a resolver failure on unchanged', async () => {
    const { error } = await call(false, 'no-such-host.invalid', { all: true });
    expect(error).not.toBeInstanceOf(UnsafeTargetError);
    expect((error as NodeJS.ErrnoException).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });

  describe('as the lookup of http.request, against a server on 127.0.0.1', () => {
    let server: http.Server;
    let port: number;
    let requests = 0;

    beforeAll(async () => {
      server = http.createServer((_req, res) => {
        requests += 1;
        res.end('reached');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.close();
      await once(server, 'close');
    });

    const get = (options: http.RequestOptions) =>
      new Promise<{ status?: number; body: string }>((resolve, reject) => {
        http
          .get(`http://localhost:${port}/`, { agent: false, ...options }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode, body }));
          })
          .on('error', reject);
      });

    it('fails the request before it connects under the default configuration', async () => {
      const before = requests;
      for (const options of [{}, { autoSelectFamily: false }, { family: 4 }]) {
        const error = await refusal(() => get({ ...options, lookup: safeLookup(false) }));
        expect(error.message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
      }
      expect(requests).toBe(before);
    });

    it('connects when insecure targets are allowed', async () => {
      const before = requests;
      await expect(get({ family: 4, lookup: safeLookup(true) })).resolves.toEqual({
        status: 200,
        body: 'reached',
      });
      await expect(get({ lookup: safeLookup(true) })).resolves.toEqual({ status: 200, body: 'reached' });
      expect(requests).toBe(before + 2);
    });
  });
});
