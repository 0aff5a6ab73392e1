import {
  ConnectorError,
  HttpExchange,
  httpStatusError,
  notItsAnswer,
  parseJsonAnswer,
  redactIdNumbers,
  refusedError,
  unavailableError,
  withReplay,
} from '#lgsp/connectors';

interface Sent {
  url: string;
  init: RequestInit;
}

/** A fetch that records what it was given and answers with `answer` (or what `answer` throws). */
function recordingFetch(answer: (init: RequestInit) => Promise<Response> | Response) {
  const sent: Sent[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(input), init: init ?? {} });
    return answer(init ?? {});
  }) as typeof fetch;
  return { sent, fn };
}

/** Rejects when the request's signal aborts (or has), as fetch does, and never answers otherwise. */
const hangingUntilAborted = (init: RequestInit): Promise<Response> =>
  new Promise((_, reject) => {
    const signal = init.signal as AbortSignal;
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });

describe('HttpExchange.exchange', () => {
  it('sends JSON with accept and content-type, plus the extra headers, and reads the whole answer', async () => {
    const { sent, fn } = recordingFetch(() => new Response('{"ok":1}', { status: 201 }));
    const http = new HttpExchange('shop', { baseUrl: 'http://127.0.0.1:4102/', fetch: fn });

    const { response, text } = await http.exchange('PUT', '/api/v1/ho-so/A?x=1', {
      body: { a: 'ồ' },
      headers: { 'x-api-key': 'k' },
    });

    expect(response.status).toBe(201);
    expect(text).toBe('{"ok":1}');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('http://127.0.0.1:4102/api/v1/ho-so/A?x=1');
    expect(sent[0]?.init).toMatchObject({
      method: 'PUT',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'x-api-key': 'k' },
      body: '{"a":"ồ"}',
    });
    expect(sent[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('marks the calls made inside an operator replay with x-lgsp-replay, and no other call', async () => {
    const { sent, fn } = recordingFetch(() => new Response('{}', { status: 200 }));
    const http = new HttpExchange('portal', { baseUrl: 'http://127.0.0.1:4101', fetch: fn });

    await http.exchange('POST', '/api/adapter', { body: {} });
    await withReplay('rp-42', () => http.exchange('POST', '/api/adapter', { body: {} }));

    expect(sent.map((s) => (s.init.headers as Record<string, string>)['x-lgsp-replay'])).toEqual([
      undefined,
      'rp-42',
    ]);
  });

  it('sends neither a body nor a content-type without a body', async () => {
    const { sent, fn } = recordingFetch(() => new Response('', { status: 404 }));
    const http = new HttpExchange('registry', { baseUrl: 'http://127.0.0.1:4103', fetch: fn });

    const { response, text } = await http.exchange('GET', '/api/v1/hotich/ket-qua/X');

    expect(response.status).toBe(404);
    expect(text).toBe('');
    expect(sent[0]?.init.headers).toEqual({ accept: 'application/json' });
    expect(sent[0]?.init).not.toHaveProperty('body');
  });

  it('classifies a failure to connect as retriable (network)', async () => {
    const { fn } = recordingFetch(() => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      });
    });
    const http = new HttpExchange('portal', { baseUrl: 'http://127.0.0.1:1', fetch: fn });

    const err = await http.exchange('POST', '/api/login', { body: {} }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'retriable', code: 'network', target: 'portal' });
  });

  it('classifies its own timeout as retriable (timeout)', async () => {
    const { fn } = recordingFetch(hangingUntilAborted);
    const http = new HttpExchange('payments', { baseUrl: 'http://127.0.0.1:1', fetch: fn, timeoutMs: 20 });

    const err = await http.exchange('POST', '/api/v1/thanh-toan', { body: {} }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'retriable', code: 'timeout', target: 'payments' });
  });

  it("rethrows the caller's abort as is, unclassified", async () => {
    const { fn } = recordingFetch(hangingUntilAborted);
    const http = new HttpExchange('portal', { baseUrl: 'http://127.0.0.1:1', fetch: fn });
    const controller = new AbortController();
    const reason = new Error('shutting down');

    const pending = http.exchange('POST', '/api/adapter', { body: {}, signal: controller.signal });
    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
  });

  it("rethrows a caller's abort that came before the call, unclassified", async () => {
    const { fn } = recordingFetch(hangingUntilAborted);
    const http = new HttpExchange('portal', { baseUrl: 'http://127.0.0.1:1', fetch: fn });
    const controller = new AbortController();
    const reason = new Error('stopped already');
    controller.abort(reason);

    await expect(http.exchange('POST', '/api/adapter', { signal: controller.signal })).rejects.toBe(reason);
  });

  it('times out a body that stops coming, as retriable (timeout)', async () => {
    const { fn } = recordingFetch(
      (init) =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('{"partial":'));
              init.signal?.addEventListener('abort', () => c.error(init.signal?.reason));
            },
          }),
          { status: 200 },
        ),
    );
    const http = new HttpExchange('shop', { baseUrl: 'http://127.0.0.1:1', fetch: fn, timeoutMs: 20 });

    const err = await http.exchange('GET', '/x').catch((e: unknown) => e);

    expect(err).toMatchObject({ kind: 'retriable', code: 'timeout', target: 'shop' });
  });

  it('classifies a body cut off while reading as retriable', async () => {
    const broken = new Response(
      new ReadableStream({
        pull(c) {
          c.error(new Error('socket closed'));
        },
      }),
      { status: 200 },
    );
    const { fn } = recordingFetch(() => broken);
    const http = new HttpExchange('shop', { baseUrl: 'http://127.0.0.1:1', fetch: fn });

    const err = await http.exchange('GET', '/x').catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'retriable', target: 'shop' });
  });
});

describe('parseJsonAnswer', () => {
  const isPortal = (v: Readonly<Record<string, unknown>>) => typeof v.error_code === 'number';

  it('answers the object that carries the marker', () => {
    expect(parseJsonAnswer(`{"error_code":0,"message":"ổn"}`, isPortal)).toEqual({
      error_code: 0,
      message: 'ổn',
    });
  });

  it.each([
    ['a proxy page', '<html><body>502 Bad Gateway</body></html>'],
    ['an empty body', ''],
    ['JSON without the marker', '{"code":"0"}'],
    ['the marker of the wrong type', '{"error_code":"0"}'],
    ['an array', '[{"error_code":0}]'],
    ['null', 'null'],
    ['a number', '0'],
  ])('answers undefined for %s', (_, text) => {
    expect(parseJsonAnswer(text, isPortal)).toBeUndefined();
  });
});

describe('the errors of an answer', () => {
  it('httpStatusError classifies the status with the Retry-After', () => {
    const response = new Response('', { status: 503, headers: { 'retry-after': '7' } });
    const err = httpStatusError('portal', response, '/api/adapter');
    expect(err.message).toBe('portal answered 503: /api/adapter');
    expect(err).toMatchObject({ kind: 'retriable', code: 'unavailable', status: 503, retryAfterMs: 7000 });
  });

  it('httpStatusError makes a 400 a data error', () => {
    const err = httpStatusError('registry', new Response('', { status: 400 }), 'DangKyHoTich: sai');
    expect(err).toMatchObject({ kind: 'data', code: 'rejected', status: 400 });
    expect(err.message).toBe('registry refused the request with 400: DangKyHoTich: sai');
  });

  it('notItsAnswer is retriable, names what was asked and keeps the status', () => {
    expect(notItsAnswer('portal', '/api/login', 200)).toMatchObject({
      message: 'portal answered /api/login with a body that is not its JSON',
      kind: 'retriable',
      code: 'unavailable',
      target: 'portal',
      status: 200,
    });
    expect(notItsAnswer('shop', 'PUT /api/v1/ho-so/A', 201, 'its success answer')).toMatchObject({
      message: 'shop answered PUT /api/v1/ho-so/A with a body that is not its success answer',
      status: 201,
    });
  });

  it('unavailableError is retriable with status 200 unless told', () => {
    expect(unavailableError('portal', 'portal refused the login: sai')).toMatchObject({
      kind: 'retriable',
      code: 'unavailable',
      status: 200,
    });
    expect(unavailableError('shop', 'x', 401)).toMatchObject({ status: 401 });
  });

  it('refusedError is a data error with status 200 unless told', () => {
    const err = refusedError('registry', 'registry refused DangKyHoTich: sai');
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({
      message: 'registry refused DangKyHoTich: sai',
      kind: 'data',
      code: 'rejected',
      target: 'registry',
      status: 200,
    });
    expect(refusedError('registry', 'x', 422)).toMatchObject({ status: 422 });
  });
});

describe('redactIdNumbers', () => {
  it('masks runs of 9 to 12 digits, the lengths of citizen IDs', () => {
    expect(redactIdNumbers('CCCD 051190001234 và CMND 051190001 sai')).toBe(
      'CCCD [redacted] và CMND [redacted] sai',
    );
  });

  it('leaves shorter and longer runs, and digits inside a longer run, alone', () => {
    expect(redactIdNumbers('mã 12345678, giao dịch 1234567890123')).toBe(
      'mã 12345678, giao dịch 1234567890123',
    );
  });
});
