import {
  ConnectorError,
  classifyHttpStatus,
  classifyNetworkError,
  mappingError,
  parseRetryAfter,
} from '#lgsp/connectors';

describe('classifyHttpStatus', () => {
  it.each([
    [429, 'rate-limited'],
    [408, 'timeout'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
  ] as const)('%i is retriable (%s): the target is overloaded or down', (status, code) => {
    const err = classifyHttpStatus('national-portal', status);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({
      kind: 'retriable',
      retriable: true,
      code,
      status,
      target: 'national-portal',
    });
  });

  it.each([400, 401, 403, 404, 409, 413, 422, 501])(
    '%i is a data error: the target refused the content',
    (status) => {
      expect(classifyHttpStatus('payments', status, { message: 'MaHoSo missing' })).toMatchObject({
        kind: 'data',
        retriable: false,
        code: 'rejected',
        status,
        message: `payments refused the request with ${status}: MaHoSo missing`,
      });
    },
  );

  it('keeps the Retry-After of a 429 or a 503 in milliseconds', () => {
    expect(classifyHttpStatus('p', 429, { retryAfter: '3' }).retryAfterMs).toBe(3000);
    const now = Date.parse('2026-11-23T08:00:00Z');
    expect(
      classifyHttpStatus('p', 503, { retryAfter: 'Mon, 23 Nov 2026 08:00:10 GMT', now }).retryAfterMs,
    ).toBe(10_000);
    expect(classifyHttpStatus('p', 503).retryAfterMs).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T08:00:00Z');
  it('reads delay-seconds and HTTP dates; a past date is 0; anything else is undefined', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 08:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('classifyNetworkError', () => {
  it('a refused or reset connection is retriable, found along fetch’s cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4010'), { code: 'ECONNREFUSED' });
    const err = classifyNetworkError('civil-registry', new TypeError('fetch failed', { cause: refused }));
    expect(err).toMatchObject({ kind: 'retriable', code: 'network', target: 'civil-registry' });
    expect(err.message).toBe('civil-registry is unreachable: fetch failed (ECONNREFUSED)');
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('a timeout (socket code or AbortSignal.timeout) is retriable with code timeout', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyNetworkError('p', timeout)).toMatchObject({ kind: 'retriable', code: 'timeout' });
    const headers = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(classifyNetworkError('p', new TypeError('fetch failed', { cause: headers }))).toMatchObject({
      code: 'timeout',
    });
  });

  it('anything else thrown before an answer is retriable, and a ConnectorError passes through', () => {
    expect(classifyNetworkError('p', 'socket hang up')).toMatchObject({ kind: 'retriable', code: 'network' });
    const data = classifyHttpStatus('p', 422);
    expect(classifyNetworkError('p', data)).toBe(data);
  });
});

describe('mappingError', () => {
  it('is a data error: the dossier cannot be expressed in the target’s format', () => {
    expect(mappingError('national-portal', 'unknown status 11')).toMatchObject({
      kind: 'data',
      code: 'mapping',
      message: 'cannot map the dossier for national-portal: unknown status 11',
    });
  });
});
