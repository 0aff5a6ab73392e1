import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ABSENT_TRACING, ApiTracing, MAX_SPAN_LINKS, type Tracing } from './tracing.js';

const STORED = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const OTHER = '00-11111111111111111111111111111111-2222222222222222-00';

describe.each([
  ['absent (no @opentelemetry/api)', ABSENT_TRACING],
  ['off (@opentelemetry/api, no SDK)', new ApiTracing(api, 'off')],
])('tracing %s', (_what, t: Tracing) => {
  it('passes a stored traceparent through to the outbound calls made inside the span, and only there', async () => {
    expect(t.outboundHeaders()).toEqual({});
    const inside = await t.span('portal sync', { parent: STORED }, async (span) => {
      await new Promise((r) => setTimeout(r, 1));
      return { headers: t.outboundHeaders(), own: span.traceparent() };
    });
    expect(inside).toEqual({ headers: { traceparent: STORED }, own: STORED });
    expect(t.outboundHeaders()).toEqual({});
  });

  it('ignores a malformed parent, and has no traceparent of its own', async () => {
    const inside = await t.span('x', { parent: '00-bad' }, async (span) => [
      t.outboundHeaders(),
      span.traceparent(),
    ]);
    expect(inside).toEqual([{}, undefined]);
  });

  it('returns what the function returns and rethrows what it throws', async () => {
    await expect(t.span('x', {}, async () => 7)).resolves.toBe(7);
    await expect(t.span('x', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('tracing on (SDK recording in memory)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const t = new ApiTracing(api, 'on');
  beforeAll(() => {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    api.trace.disable();
    api.context.disable();
  });
  beforeEach(() => exporter.reset());

  it('joins the trace of a stored parent, and its children join it', async () => {
    const own = await t.span('portal sync', { kind: 'consumer', parent: STORED }, (span) =>
      t.span('inner', {}, async () => span.traceparent()),
    );
    const [inner, outer] = exporter.getFinishedSpans();
    expect(outer!.spanContext().traceId).toBe(STORED.split('-')[1]);
    expect(outer!.parentSpanContext?.spanId).toBe(STORED.split('-')[2]);
    expect(outer!.kind).toBe(api.SpanKind.CONSUMER);
    expect(inner!.parentSpanContext?.spanId).toBe(outer!.spanContext().spanId);
    expect(own).toBe(`00-${outer!.spanContext().traceId}-${outer!.spanContext().spanId}-01`);
    // The undici instrumentation injects the context itself.
    expect(t.outboundHeaders()).toEqual({});
  });

  it('starts a new trace for `root`, linking to valid stored contexts only, at most MAX_SPAN_LINKS', async () => {
    await t.span('outer', {}, () =>
      t.span(
        'replay portal',
        { root: true, links: [STORED, undefined, 'junk', OTHER] },
        async () => undefined,
      ),
    );
    const [replay, outer] = exporter.getFinishedSpans();
    expect(replay!.spanContext().traceId).not.toBe(outer!.spanContext().traceId);
    expect(replay!.parentSpanContext).toBeUndefined();
    expect(replay!.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331', '2222222222222222']);

    exporter.reset();
    await t.span('batch', { links: Array.from({ length: 300 }, () => STORED) }, async () => undefined);
    expect(exporter.getFinishedSpans()[0]!.links).toHaveLength(MAX_SPAN_LINKS);
  });

  it('marks a failed span with the error class and code, never its message', async () => {
    const err = Object.assign(new Error('Nguyễn Văn A, 001099012345 refused'), { code: 'invalid' });
    await expect(
      t.span('x', { attributes: { 'lgsp.dossier.code': 'D1', skipped: undefined } }, () =>
        Promise.reject(err),
      ),
    ).rejects.toBe(err);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span!.attributes).toEqual({ 'lgsp.dossier.code': 'D1', 'error.type': 'Error:invalid' });
    expect(JSON.stringify(span!.events)).not.toContain('Nguyễn');
    expect(span!.status.message).toBeUndefined();
  });
});
