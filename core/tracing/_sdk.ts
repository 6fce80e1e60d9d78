/**
 * {@linkcode Tracing} on the OpenTelemetry JS SDK: a tracer provider with a batch
 * span processor and the OTLP/HTTP exporter, which read the standard `OTEL_*`
 * variables themselves (endpoint, headers, protocol, timeouts, batch sizes). Only
 * `mod.ts` imports this, and only when tracing is on.
 *
 * @module
 */
import {
  type Context,
  context as apiContext,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
} from "@opentelemetry/semantic-conventions";
import type { ErrorData } from "../types.ts";
import type { SpanAttributes, TraceSpan, Tracing } from "./mod.ts";
import { parseTraceparent, type TraceContext } from "./traceparent.ts";

const KINDS = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

/** The SDK behind {@linkcode Tracing}, for service `service` (e.g. `pipelinin-router`). */
export function sdkTracing(service: string, instance: string): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: Deno.env.get("OTEL_SERVICE_NAME") || service,
      [ATTR_SERVICE_INSTANCE_ID]: instance,
    }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  const tracer = provider.getTracer("pipelinin");
  return {
    start(name, options = {}) {
      const span = tracer.startSpan(name, {
        kind: KINDS[options.kind ?? "internal"],
        ...(options.attributes ? { attributes: options.attributes } : {}),
        ...(options.time !== undefined ? { startTime: options.time } : {}),
      }, parentContext(options.parent));
      return new SdkSpan(span);
    },
    async forceFlush() {
      await provider.forceFlush();
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}

function parentContext(parent: string | TraceContext | undefined): Context {
  const parsed = typeof parent === "string" ? parseTraceparent(parent) : parent;
  if (!parsed) return apiContext.active();
  const flags = Number.parseInt(parsed.traceparent.slice(53, 55), 16);
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: flags & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

class SdkSpan implements TraceSpan {
  readonly context: TraceContext;
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
    const { traceId, spanId, traceFlags } = span.spanContext();
    const flags = (traceFlags & 0xff).toString(16).padStart(2, "0");
    this.context = { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${flags}` };
  }

  set(attributes: SpanAttributes): void {
    this.#span.setAttributes(attributes);
  }

  fail(error: ErrorData): void {
    this.#span.setAttribute(ATTR_ERROR_TYPE, error.name);
    this.#span.addEvent("exception", {
      [ATTR_EXCEPTION_TYPE]: error.name,
      [ATTR_EXCEPTION_MESSAGE]: error.message,
      ...(error.stack ? { [ATTR_EXCEPTION_STACKTRACE]: error.stack } : {}),
    });
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }

  end(time?: number): void {
    this.#span.end(time);
  }
}
