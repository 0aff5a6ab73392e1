import { register } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation, type UndiciRequest } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from './tracing.js';

/** The sampler an `OTEL_TRACES_SAMPLER` name stands for. */
function samplerOf(name: string | undefined, ratio: number): Sampler {
  const root =
    name === 'always_off' || name === 'parentbased_always_off'
      ? new AlwaysOffSampler()
      : name === 'traceidratio' || name === 'parentbased_traceidratio'
        ? new TraceIdRatioBasedSampler(ratio)
        : new AlwaysOnSampler();
  return name === undefined || name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Loaded only when tracing is on (dynamic import from `startTracing`): the tracer provider exporting
 * over OTLP/HTTP (JSON; endpoint, headers, timeouts and the batch processor's limits from the standard
 * `OTEL_*` variables), the async-local-storage context, the W3C trace-context propagator, and the
 * undici (every outbound HTTP call: `fetch` and the webhooks' agent) and pg instrumentations.
 * @returns what flushes and stops it.
 */
export async function startSdk(api: typeof Api, settings: TracingSettings): Promise<() => Promise<void>> {
  // pg is imported from the hub's ESM build: it is patched through the loader hook, which wraps it
  // alone (wrapping every module breaks the hub's `export *` re-exports).
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['pg'] } });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES, then the configured service name.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
    sampler: samplerOf(settings.sampler, settings.samplerRatio ?? 1),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        ...(settings.batch
          ? {
              scheduledDelayMillis: settings.batch.scheduledDelayMs,
              exportTimeoutMillis: settings.batch.exportTimeoutMs,
              maxQueueSize: settings.batch.maxQueueSize,
              maxExportBatchSize: settings.batch.maxExportBatchSize,
            }
          : {}),
      }),
    ],
  });
  api.trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new UndiciInstrumentation({
        // Every outbound call: inside a hub span (a connector's sync, a webhook delivery) it joins that
        // trace; the pollers' and the online capture's calls start traces of their own.
        // A target's URL may hold a secret in its path or query (webhook URLs often do): the span
        // keeps the origin only; the hub's own span around the call names what it was.
        startSpanHook: (request: UndiciRequest) => ({
          'url.full': request.origin,
          'url.path': '/',
          'url.query': '',
        }),
      }),
      // Statements only, never their values (the default); no span for a connection taken from the pool.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    ],
  });
  return async () => {
    unregister();
    await provider.forceFlush();
    await provider.shutdown();
  };
}
