import { AsyncLocalStorage } from 'node:async_hooks';
import { formatTraceparent, parseTraceparent } from '#lgsp/contracts';
import type * as Api from '@opentelemetry/api';

/**
 * The hub's one door to OpenTelemetry tracing. Nothing else imports `@opentelemetry/*`: code makes
 * spans through {@link tracing}, which is one of three implementations chosen once at start-up by
 * {@link startTracing}:
 * - `absent`: `@opentelemetry/api` is never loaded (the benchmark's baseline, `LGSP_TRACING_LOAD_API=false`);
 * - `off` (the default): spans are `@opentelemetry/api` calls with no SDK behind them (no-ops);
 * - `on`: the SDK is loaded (dynamic import) and exports to OTLP/HTTP, as the `OTEL_*` variables say.
 *
 * Attributes are codes, types, positions and counts only, never personal data (names, ID numbers):
 * see {@link SpanAttributes}.
 */
export type TracingMode = 'absent' | 'off' | 'on';

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/**
 * Span attributes. Values are codes (dossier, commune, province, event type, target), positions,
 * counts and outcomes; a caller never puts a person's name, ID number or any event data here.
 */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

export interface SpanOptions {
  kind?: SpanKindName;
  attributes?: SpanAttributes;
  /**
   * The span's parent as a W3C `traceparent` (e.g. the one stored with an event): the span joins that
   * trace. Ignored when not a valid traceparent. Without it the span is a child of the active span.
   */
  parent?: string | undefined;
  /** Start a new trace even if a span is active (a replay run: its own trace, linking to the originals). */
  root?: boolean;
  /** Stored trace contexts the span links to (OTel messaging conventions); invalid ones are skipped. */
  links?: readonly (string | undefined)[];
}

/** What code inside a span may do with it. */
export interface TraceSpan {
  setAttribute(name: string, value: string | number | boolean): void;
  /** Marks the span failed with the error's class and code (never its message: it may quote input). */
  fail(error: unknown): void;
  /**
   * The traceparent to store or send for this span: its own context when tracing is on, else the parent
   * it was given (passed through unchanged, as W3C Trace Context allows); undefined when neither.
   */
  traceparent(): string | undefined;
}

export interface Tracing {
  readonly mode: TracingMode;
  /** Runs `fn` inside a new span (active for everything `fn` calls), ended when `fn` settles. */
  span<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /**
   * Headers an outbound call adds to carry the current trace: when tracing is on the undici
   * instrumentation injects them itself (empty here), otherwise the traceparent of the enclosing span's
   * parent, passed through.
   */
  outboundHeaders(): Record<string, string>;
  /** Flushes and stops the exporter (on), nothing otherwise. */
  shutdown(): Promise<void>;
}

/** At most this many links on one span (a subscriber's batch of 100 or 1,000 events). */
export const MAX_SPAN_LINKS = 128;

/** The traceparent passed through to outbound calls when the SDK does not propagate (off and absent). */
const carried = new AsyncLocalStorage<string>();

function passThrough<T>(parent: string | undefined, fn: () => Promise<T>): Promise<T> {
  return parent !== undefined && parseTraceparent(parent) !== undefined ? carried.run(parent, fn) : fn();
}

function carriedHeaders(): Record<string, string> {
  const tp = carried.getStore();
  return tp === undefined ? {} : { traceparent: tp };
}

const noopSpan = (parent: string | undefined): TraceSpan => ({
  setAttribute: () => undefined,
  fail: () => undefined,
  traceparent: () => (parent !== undefined && parseTraceparent(parent) !== undefined ? parent : undefined),
});

const NO_PARENT_SPAN = noopSpan(undefined);

/** `@opentelemetry/api` not loaded at all: no span, the stored traceparent still passed through. */
export const ABSENT_TRACING: Tracing = {
  mode: 'absent',
  span: (_name, options, fn) =>
    options.parent === undefined
      ? fn(NO_PARENT_SPAN)
      : passThrough(options.parent, () => fn(noopSpan(options.parent))),
  outboundHeaders: carriedHeaders,
  shutdown: async () => undefined,
};

const KINDS: Record<SpanKindName, Api.SpanKind> = {
  internal: 0 as Api.SpanKind.INTERNAL,
  server: 1 as Api.SpanKind.SERVER,
  client: 2 as Api.SpanKind.CLIENT,
  producer: 3 as Api.SpanKind.PRODUCER,
  consumer: 4 as Api.SpanKind.CONSUMER,
};

/** Spans through `@opentelemetry/api`: no-ops without the SDK (`off`), recorded and exported with it (`on`). */
export class ApiTracing implements Tracing {
  private readonly tracer: Api.Tracer;

  constructor(
    private readonly api: typeof Api,
    readonly mode: 'off' | 'on',
    private readonly stop: () => Promise<void> = async () => undefined,
  ) {
    this.tracer = api.trace.getTracer('lgsp-hub');
  }

  span<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T> {
    const { api } = this;
    const remote = this.contextOf(options.parent);
    const parentContext = remote ?? (options.root === true ? api.ROOT_CONTEXT : api.context.active());
    const links: Api.Link[] = [];
    for (const tp of options.links ?? []) {
      if (links.length >= MAX_SPAN_LINKS) break;
      const parsed = parseTraceparent(tp);
      if (parsed !== undefined) links.push({ context: this.spanContext(parsed) });
    }
    const span = this.tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind ?? 'internal'],
        ...(options.attributes ? { attributes: defined(options.attributes) } : {}),
        ...(links.length > 0 ? { links } : {}),
      },
      parentContext,
    );
    const handle: TraceSpan = {
      setAttribute: (key, value) => span.setAttribute(key, value),
      fail: (error) => failSpan(api, span, error),
      traceparent: () => {
        const sc = span.spanContext();
        return api.trace.isSpanContextValid(sc)
          ? formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags })
          : undefined;
      },
    };
    const run = async (): Promise<T> => {
      try {
        return await fn(handle);
      } catch (e) {
        handle.fail(e);
        throw e;
      } finally {
        span.end();
      }
    };
    const active = api.trace.setSpan(parentContext, span);
    // Off, nothing propagates: the given parent is passed through to outbound calls as it came.
    return this.mode === 'on'
      ? api.context.with(active, run)
      : api.context.with(active, () => passThrough(options.parent, run));
  }

  outboundHeaders(): Record<string, string> {
    return this.mode === 'on' ? {} : carriedHeaders();
  }

  shutdown(): Promise<void> {
    return this.stop();
  }

  private contextOf(traceparent: string | undefined): Api.Context | undefined {
    if (traceparent === undefined) return undefined;
    const parsed = parseTraceparent(traceparent);
    if (parsed === undefined) return undefined;
    return this.api.trace.setSpanContext(this.api.ROOT_CONTEXT, this.spanContext(parsed));
  }

  private spanContext(parsed: { traceId: string; spanId: string; flags: number }): Api.SpanContext {
    return {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      traceFlags: parsed.flags & 0xff,
      isRemote: true,
    };
  }
}

function defined(attributes: SpanAttributes): Api.Attributes {
  const out: Api.Attributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function failSpan(api: typeof Api, span: Api.Span, error: unknown): void {
  const e = error as { name?: unknown; code?: unknown } | undefined;
  const type = typeof e?.name === 'string' ? e.name : 'Error';
  span.setAttribute('error.type', typeof e?.code === 'string' ? `${type}:${e.code}` : type);
  span.setStatus({ code: api.SpanStatusCode.ERROR });
}

let current: Tracing = ABSENT_TRACING;

/** The tracing chosen at start-up ({@link ABSENT_TRACING} until {@link startTracing} runs). */
export const tracing = (): Tracing => current;

/** What {@link startTracing} needs: the hub configuration's `tracing` section. */
export interface TracingSettings {
  mode: TracingMode;
  /** `service.name` of the spans. */
  serviceName: string;
  /** The OpenTelemetry sampler's name (`OTEL_TRACES_SAMPLER` values) and its ratio. */
  sampler?: string;
  samplerRatio?: number;
  /** The batch span processor's settings. */
  batch?: {
    scheduledDelayMs: number;
    exportTimeoutMs: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
  };
}

/**
 * Chooses the process's tracing once, before the hub's modules load (the instrumentations patch
 * them as they load): `absent` loads nothing, `off` only `@opentelemetry/api`, `on` the SDK too.
 */
export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  if (settings.mode === 'absent') {
    current = ABSENT_TRACING;
  } else {
    const api = await import('@opentelemetry/api');
    if (settings.mode === 'off') current = new ApiTracing(api, 'off');
    else {
      const { startSdk } = await import('./tracing-sdk.js');
      const stop = await startSdk(api, settings);
      current = new ApiTracing(api, 'on', stop);
    }
  }
  return current;
}

/** Replaces the process's tracing (tests). */
export function useTracing(t: Tracing): void {
  current = t;
}
