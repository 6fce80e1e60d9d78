/**
 * Tracing with OpenTelemetry, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: only then is the SDK imported (see
 * `_sdk.ts`), and every daemon exports its spans over OTLP/HTTP, configured by the
 * standard `OTEL_*` variables. With it off, a daemon holds `undefined` where a
 * {@linkcode Tracing} would be, and its hot path checks that and nothing else.
 *
 * @module
 */
import type { ErrorData } from "../types.ts";
import type { TraceContext } from "./traceparent.ts";

export { parseTraceparent, type TraceContext, TRACEPARENT_LENGTH } from "./traceparent.ts";

/** A span's attribute values. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** One span, started by {@linkcode Tracing.start}. */
export interface TraceSpan {
  /** Its context, to hand to whatever runs under it. */
  readonly context: TraceContext;
  /** Adds attributes. */
  set(attributes: SpanAttributes): void;
  /** Marks it failed with `error` (status ERROR, an exception event). */
  fail(error: ErrorData): void;
  /** Ends it (now, or at `time`, epoch ms). */
  end(time?: number): void;
}

/** What a daemon traces with. */
export interface Tracing {
  /**
   * Starts a span: a child of `parent` (a `traceparent`, or a span), else a new trace.
   * `time` (epoch ms) backdates its start.
   */
  start(
    name: string,
    options?: {
      parent?: string | TraceContext;
      attributes?: SpanAttributes;
      time?: number;
      kind?: "server" | "client" | "internal" | "producer" | "consumer";
    },
  ): TraceSpan;
  /** Exports the spans ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/** The variables that turn tracing on. */
const ENDPOINTS = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // No permission to read it: tracing stays off.
  }
}

/** Whether the environment turns tracing on (an endpoint set, the SDK not disabled). */
export function tracingWanted(): boolean {
  if (env("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return false;
  if (env("OTEL_TRACES_EXPORTER")?.toLowerCase() === "none") return false;
  return ENDPOINTS.some((name) => env(name) !== undefined);
}

/**
 * The `OTEL_*` variables set here, to hand to a child process (a broker's worker
 * hosts start with an empty environment).
 */
export function otelEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(Deno.env.toObject())) {
      if (name.startsWith("OTEL_")) out[name] = value;
    }
  } catch {
    // No permission: nothing to hand on.
  }
  return out;
}

/** `host:port` of the collector spans go to, for a child's `--allow-net`, if tracing is on. */
export function collectorAddress(): string | undefined {
  if (!tracingWanted()) return undefined;
  const url = ENDPOINTS.map(env).find((value) => value !== undefined)!;
  try {
    const { hostname, port, protocol } = new URL(url);
    return `${hostname}:${port || (protocol === "https:" ? "443" : "80")}`;
  } catch {
    return undefined;
  }
}

/**
 * Runs `start` (a daemon's start) and returns its handle, whose `stop` also exports
 * the spans left and stops `tracing`; a failed start stops it too.
 */
export async function traced<T extends { stop(): Promise<void> }>(
  tracing: Tracing | undefined,
  start: () => T | Promise<T>,
): Promise<T> {
  if (!tracing) return await start();
  let handle: T;
  try {
    handle = await start();
  } catch (error) {
    await tracing.shutdown().catch(() => {});
    throw error;
  }
  const stop = handle.stop.bind(handle);
  return Object.assign(handle, {
    async stop() {
      await stop();
      await tracing.shutdown().catch(() => {});
    },
  });
}

/**
 * Starts tracing for a daemon when the environment asks for it; undefined otherwise
 * (the SDK is never loaded then).
 */
export async function startTracing(
  service: string,
  instance: string,
): Promise<Tracing | undefined> {
  if (!tracingWanted()) return undefined;
  const { sdkTracing } = await import("./_sdk.ts");
  return sdkTracing(service, instance);
}
