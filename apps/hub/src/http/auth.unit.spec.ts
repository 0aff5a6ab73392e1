import { DomainError } from '#lgsp/contracts';
import { TokenExpiredError, type Client } from '#lgsp/security';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { guardRequest, type GuardParts } from './auth.js';
import type { RequestLimits } from './rate-limits.js';

const ops: Client = {
  id: 'c-ops',
  name: 'ops',
  role: 'operator',
  communeCodes: [],
  sources: [],
  createdAt: '',
};

/**
 * The guard with a fake client service and limits: what it answered or threw, and how often each
 * bucket was asked.
 */
async function guard(
  authenticate: GuardParts['clients']['authenticate'],
  addressAllows = true,
): Promise<{ outcome: unknown; status: number | undefined; address: number; client: number }> {
  const counts = { address: 0, client: 0 };
  const limits = {
    address: () => (counts.address++, addressAllows),
    client: () => (counts.client++, true),
    holdRefusal: async () => undefined,
  } as unknown as RequestLimits;
  const req = {
    url: '/v1/events?limit=1',
    method: 'GET',
    ip: '192.0.2.7',
    headers: { authorization: 'Bearer lgsp_token' },
  } as unknown as FastifyRequest;
  let status: number | undefined;
  const reply = {
    request: req,
    getHeader: () => '1',
    code(code: number) {
      status = code;
      return this;
    },
    header() {
      return this;
    },
    headers() {
      return this;
    },
    send() {
      return this;
    },
  } as unknown as FastifyReply;
  const outcome = await guardRequest(
    { clients: { authenticate }, limits, authorizeMetrics: null },
    req,
    reply,
  ).catch((e: unknown) => e);
  return { outcome, status, ...counts };
}

describe('guardRequest: tokens that are not valid count against the address once', () => {
  it('counts a valid token against its client only', async () => {
    const r = await guard(async () => ops);
    expect(r).toMatchObject({ outcome: undefined, address: 0, client: 1 });
  });

  it('counts a token looked up and not found once, and answers 401, or 429 without the look-up', async () => {
    let lookUps = 0;
    const unknown = async (_token: string, mayLookUp?: () => boolean) => {
      if (mayLookUp?.()) lookUps += 1;
      return undefined;
    };
    const r = await guard(unknown);
    expect(r.outcome).toMatchObject({ code: 'unauthenticated', message: 'the token is not valid' });
    expect([r.address, r.client, lookUps]).toEqual([1, 0, 1]);
    expect(await guard(unknown, false)).toMatchObject({ status: 429, address: 1 });
    expect(lookUps).toBe(1);
  });

  it('counts an expired token known to the process (no look-up) against the address, 401 or 429', async () => {
    const expired = async () => {
      throw new TokenExpiredError();
    };
    const allowed = await guard(expired);
    expect(allowed.outcome).toBeInstanceOf(TokenExpiredError);
    expect(allowed.address).toBe(1);
    const refused = await guard(expired, false);
    expect([refused.outcome, refused.status, refused.address]).toEqual([expect.anything(), 429, 1]);
    expect(refused.outcome).not.toBeInstanceOf(Error);
  });

  it('counts a revoked client’s token known to the process against the address, 401 or 429', async () => {
    const revoked = async () => undefined;
    expect(await guard(revoked)).toMatchObject({
      outcome: { code: 'unauthenticated' },
      address: 1,
      client: 0,
    });
    expect(await guard(revoked, false)).toMatchObject({ status: 429, address: 1 });
  });

  it('does not count a JWT refused as forbidden or the identity provider unavailable against the address', async () => {
    for (const error of [
      new DomainError('forbidden', "the token's roles give no role in the hub"),
      new DomainError('unavailable', "the identity provider's key set cannot be read"),
    ]) {
      const r = await guard(async () => {
        throw error;
      });
      expect([r.outcome, r.address, r.client]).toEqual([error, 0, 0]);
    }
  });
});
