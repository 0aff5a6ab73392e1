import { jest } from '@jest/globals';
import { HubMetrics, type RootLogger as Logger } from '#lgsp/observability';
import {
  RequestLimits,
  requestCost,
  addressKey,
  rateLimitHeader,
  rateLimitPolicyHeader,
  retryAfterSeconds,
} from './rate-limits.js';

describe('RateLimit headers (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('states the bucket as a quota of burst requests per whole-second window', () => {
    expect(rateLimitPolicyHeader('client', { ratePerSecond: 20_000, burst: 20_000 })).toBe(
      '"client";q=20000;w=1',
    );
    expect(rateLimitPolicyHeader('address', { ratePerSecond: 100, burst: 200 })).toBe('"address";q=200;w=2');
    expect(rateLimitPolicyHeader('client', { ratePerSecond: 0.5, burst: 1 })).toBe('"client";q=1;w=2');
    expect(rateLimitPolicyHeader('metrics', { ratePerSecond: 3, burst: 10 })).toBe('"metrics";q=10;w=4');
  });

  it('gives the whole requests left and the seconds until one more, at least 1', () => {
    const limit = { ratePerSecond: 2, burst: 10 };
    expect(rateLimitHeader('client', limit, 7.25)).toBe('"client";r=7;t=1');
    expect(rateLimitHeader('client', limit, 0)).toBe('"client";r=0;t=1');
    expect(rateLimitHeader('client', { ratePerSecond: 0.1, burst: 1 }, 0.05)).toBe('"client";r=0;t=10');
    expect(rateLimitHeader('client', limit, 2.9999999999)).toBe('"client";r=3;t=1');
    expect(rateLimitHeader('client', limit, -1e-12)).toBe('"client";r=0;t=1');
  });

  it('says Retry-After in whole seconds until a token is there, never 0', () => {
    expect(retryAfterSeconds({ ratePerSecond: 100, burst: 200 }, 0.5)).toBe(1);
    expect(retryAfterSeconds({ ratePerSecond: 0.25, burst: 1 }, 0)).toBe(4);
    expect(retryAfterSeconds({ ratePerSecond: 0.25, burst: 1 }, 0.5)).toBe(2);
  });
});

describe('addressKey', () => {
  it('keys IPv4 by address, IPv6 by its /64, and mapped IPv4 as IPv4', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:85a3:1234:ffff:1:2:3')).toBe('2001:db8:85a3:1234::/64');
    expect(addressKey('2001:0db8:85a3:1234::9')).toBe('2001:db8:85a3:1234::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:db8::1%eth0')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1:2:3:4.5.6.7')).toBe('fe80:0:0:1::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('RequestLimits', () => {
  const setup = () => {
    let now = 0;
    const metrics = new HubMetrics({ defaultMetrics: false });
    const logged: unknown[] = [];
    const logger = {
      info: (fields: unknown, msg: string) => logged.push([fields, msg]),
    } as unknown as Logger;
    const limits = new RequestLimits(
      {
        client: { ratePerSecond: 10, burst: 2 },
        operator: { ratePerSecond: 100, burst: 7 },
        address: { ratePerSecond: 1, burst: 1 },
        metrics: { ratePerSecond: 1, burst: 3 },
        refusalDelayMs: 50,
        refusalsHeld: 2,
      },
      metrics,
      logger,
      { now: () => now },
    );
    const reply = () => {
      const headers: Record<string, string> = {};
      return { headers, header: (name: string, value: string) => (headers[name] = value) };
    };
    return { limits, metrics, logged, reply, advance: (ms: number) => (now += ms) };
  };

  it('sets the headers on every answer, and Retry-After with a count on a refusal', async () => {
    const { limits, metrics, logged, reply, advance } = setup();
    const c1 = { id: 'c1', name: 'Xã Bình Sơn', role: 'commune' as const };
    const first = reply();
    expect(limits.client(c1, first)).toBe(true);
    expect(first.headers).toEqual({ 'ratelimit-policy': '"client";q=2;w=1', ratelimit: '"client";r=1;t=1' });
    expect(limits.client(c1, reply())).toBe(true);
    const refused = reply();
    expect(limits.client(c1, refused)).toBe(false);
    expect(refused.headers).toEqual({
      'ratelimit-policy': '"client";q=2;w=1',
      ratelimit: '"client";r=0;t=1',
      'retry-after': '1',
    });
    // A client's own limit replaces the default.
    const own = reply();
    expect(
      limits.client(
        { id: 'c2', name: 'two', role: 'commune', rateLimit: { ratePerSecond: 0.5, burst: 5 } },
        own,
      ),
    ).toBe(true);
    expect(own.headers['ratelimit-policy']).toBe('"client";q=5;w=10');
    // Admins and operators without a limit of their own get rateLimit.operator.
    for (const role of ['admin', 'operator'] as const) {
      const staff = reply();
      expect(limits.client({ id: `s-${role}`, name: role, role }, staff)).toBe(true);
      expect(staff.headers['ratelimit-policy']).toBe('"client";q=7;w=1');
    }
    advance(100);
    expect(limits.client(c1, reply())).toBe(true);
    expect(await metrics.render()).toContain('lgsp_http_rate_limited_total{limit="client"} 1');
    // Logged once a minute per client at most, by name.
    expect(limits.client(c1, reply())).toBe(false);
    expect(logged).toEqual([
      [
        { client: 'Xã Bình Sơn', rateLimit: { ratePerSecond: 10, burst: 2 } },
        'client over its rate limit; answering 429',
      ],
    ]);
  });

  it('keeps the address and metrics buckets apart from each other and from the clients', () => {
    const { limits, reply } = setup();
    expect(limits.address('192.0.2.1', reply())).toBe(true);
    expect(limits.address('192.0.2.1', reply())).toBe(false);
    expect(limits.address('::ffff:192.0.2.1', reply())).toBe(false);
    expect(limits.address('192.0.2.2', reply())).toBe(true);
    expect([1, 2, 3, 4].map(() => limits.metricsScrape('192.0.2.1', reply()))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(limits.client({ id: '192.0.2.1', name: 'x', role: 'commune' }, reply())).toBe(true);
  });

  it('holds a refusal for refusalDelayMs (at most its Retry-After), and no more than refusalsHeld at once', async () => {
    jest.useFakeTimers();
    try {
      const { limits } = setup();
      const done: string[] = [];
      const hold = (name: string, retryAfter: number) =>
        limits.holdRefusal(retryAfter).then(() => done.push(name));
      const held = [hold('a', 1), hold('b', 1), hold('third, over refusalsHeld', 1), hold('no wait', 0)];
      await jest.advanceTimersByTimeAsync(0);
      expect(done).toEqual(['third, over refusalsHeld', 'no wait']);
      // Half to all of refusalDelayMs (50 ms), jittered so that refusals do not come back together.
      await jest.advanceTimersByTimeAsync(24);
      expect(done).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(26);
      await Promise.all(held);
      expect(done.slice(2).sort()).toEqual(['a', 'b']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('charges a read of the log one unit per 10 events asked, and every other request one', () => {
    expect(requestCost('GET', '/v1/events')).toBe(10);
    expect(requestCost('GET', '/v1/events?after=7&limit=1000')).toBe(100);
    expect(requestCost('GET', '/v1/events?limit=5')).toBe(1);
    expect(requestCost('GET', '/v1/events?limit=99999999')).toBe(100);
    expect(requestCost('GET', '/v1/streams/dossier-A?limit=50')).toBe(5);
    expect(requestCost('POST', '/v1/events')).toBe(1);
    expect(requestCost('GET', '/v1/dossiers/A')).toBe(1);
    expect(requestCost('GET', '/v1/eventsX?limit=1000')).toBe(1);
  });

  it('takes the cost of a request from the bucket, and refuses what the bucket cannot cover', () => {
    const { limits } = setup();
    const client = {
      id: 'c',
      name: 'c',
      role: 'province' as const,
      rateLimit: { ratePerSecond: 1, burst: 10 },
    };
    const sink = () => ({ header: () => undefined });
    expect(limits.client(client, sink(), 4)).toBe(true);
    expect(limits.client(client, sink(), 4)).toBe(true);
    expect(limits.client(client, sink(), 4)).toBe(false);
    expect(limits.client(client, sink(), 2)).toBe(true);
  });
});
