import { DomainError } from '#lgsp/contracts';
import { toProblem } from './problem.js';

describe('problem details', () => {
  it('maps each domain error code to its status, keeping the pointers', () => {
    const cases: [ConstructorParameters<typeof DomainError>[0], number][] = [
      ['malformed', 400],
      ['unauthenticated', 401],
      ['forbidden', 403],
      ['not-found', 404],
      ['conflict', 409],
      ['too-large', 413],
      ['unsupported-media-type', 415],
      ['invalid', 422],
      ['rate-limited', 429],
      ['unavailable', 503],
    ];
    for (const [code, status] of cases) {
      const p = toProblem(new DomainError(code, 'why', [{ pointer: '/0/data', message: 'm' }]), '/v1/events');
      expect(p).toEqual({
        type: `https://lgsp-hub.vn/problems/${code}`,
        title: expect.any(String),
        status,
        detail: 'why',
        errors: [{ pointer: '/0/data', message: 'm' }],
        instance: '/v1/events',
      });
    }
  });

  it("maps Fastify's body limit to 413 and hides internal errors behind a 500", () => {
    expect(toProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'x' }).status).toBe(413);
    const internal = toProblem(new Error('SQLITE_CORRUPT at /secret/path'));
    expect(internal.status).toBe(500);
    expect(internal.detail).not.toContain('secret');
  });

  it('titles a problem without a domain code by the reason phrase of its status (RFC 9457 about:blank)', () => {
    expect(toProblem({ statusCode: 431, message: 'headers too large' })).toMatchObject({
      type: 'about:blank',
      title: 'Request Header Fields Too Large',
      status: 431,
      detail: 'headers too large',
    });
  });
});
