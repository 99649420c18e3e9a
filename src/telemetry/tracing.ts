/**
 * Sets up OpenTelemetry tracing from `config.tracing` and hands core/tracing.ts its tracer. The
 * SDK is imported here, dynamically, only when tracing is enabled: a gateway with tracing off
 * never loads it.
 *
 *   exporter otlp     our provider, ParentBased(TraceIdRatioBased(sample_ratio)) sampler,
 *                     BatchSpanProcessor → OTLP/HTTP (endpoint, headers)
 *   exporter console  the same, spans printed to stdout (debugging)
 *   exporter none     no provider of ours: spans go to the global one, which an SDK set up by
 *                     the host app exports (and samples); without one they are non-recording,
 *                     and upstreams get the client's trace context
 *   options.exporter  tests: our provider, every span straight to that exporter (SimpleSpanProcessor)
 *
 * Each also registers the W3C trace-context propagator globally unless one is registered already.
 */
import { diag, DiagLogLevel, propagation, trace, type DiagLogger, type Tracer } from "@opentelemetry/api";
import type { SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Config } from "../config/schema.js";
import { disableTracing, enableTracing } from "../core/tracing.js";
import { VERSION } from "../version.js";
import type { Logger } from "./logger.js";

export type TracingConfig = Config["tracing"];

export interface Tracing {
  /** Stops making spans, exports those still buffered, unregisters what setup registered. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Export every span to this exporter at once (SimpleSpanProcessor), whatever `exporter` says: for tests. */
  exporter?: SpanExporter;
}

/** undefined when tracing is disabled; else the handle whose shutdown() the gateway awaits on exit. */
export async function setupTracing(cfg: TracingConfig, log: Logger, options: TracingOptions = {}): Promise<Tracing | undefined> {
  if (!cfg.enabled) return undefined;
  const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
  const ownPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (cfg.exporter === "none" && options.exporter === undefined) {
    enableTracing(trace.getTracer("switchyard", VERSION));
    log.info({ exporter: "none" }, "tracing on: spans go to the host's OpenTelemetry SDK, if any");
    return {
      shutdown: () => {
        unregister(ownPropagator, false);
        return Promise.resolve();
      },
    };
  }
  const sdk = await import("@opentelemetry/sdk-trace-base");
  const { defaultResource, resourceFromAttributes } = await import("@opentelemetry/resources");
  let processor: SpanProcessor;
  let ownDiag = false;
  if (options.exporter !== undefined) processor = new sdk.SimpleSpanProcessor(options.exporter);
  else {
    // Export failures (a collector down) reach the OpenTelemetry diag logger: ours says them.
    ownDiag = diag.setLogger(diagLogger(log), DiagLogLevel.WARN);
    processor = new sdk.BatchSpanProcessor(await exporterFor(cfg));
  }
  const provider = new sdk.BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ "service.name": cfg.service_name, "service.version": VERSION })),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(cfg.sample_ratio) }),
    spanProcessors: [processor],
  });
  const tracer: Tracer = provider.getTracer("switchyard", VERSION);
  enableTracing(tracer);
  log.info(
    { exporter: options.exporter === undefined ? cfg.exporter : "custom", endpoint: endpointForLog(cfg), sample_ratio: cfg.sample_ratio },
    "tracing on",
  );
  return {
    shutdown: async () => {
      disableTracing();
      try {
        await provider.shutdown();
      } finally {
        unregister(ownPropagator, ownDiag);
      }
    },
  };
}

async function exporterFor(cfg: TracingConfig): Promise<SpanExporter> {
  if (cfg.exporter === "console") return new (await import("@opentelemetry/sdk-trace-base")).ConsoleSpanExporter();
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
  return new OTLPTraceExporter({ url: cfg.endpoint, headers: { ...cfg.headers } });
}

function unregister(ownPropagator: boolean, ownDiag: boolean): void {
  disableTracing();
  if (ownPropagator) propagation.disable();
  if (ownDiag) diag.disable();
}

/** The endpoint without credentials or query (its headers are never logged). */
function endpointForLog(cfg: TracingConfig): string | undefined {
  if (cfg.exporter !== "otlp") return undefined;
  const u = new URL(cfg.endpoint);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function diagLogger(log: Logger): DiagLogger {
  const off = () => undefined;
  return {
    error: (message: string) => log.warn({ component: "opentelemetry" }, message),
    warn: (message: string) => log.warn({ component: "opentelemetry" }, message),
    info: off,
    debug: off,
    verbose: off,
  };
}
