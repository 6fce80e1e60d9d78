/**
 * W3C Trace Context `traceparent` values (`00-<trace id>-<span id>-<flags>`), read
 * without the OpenTelemetry SDK: the protocol and the HTTP front check them whether
 * tracing is on or not.
 *
 * @module
 */

import type { TraceIds } from "../types.ts";

/** The span context a `traceparent` carries (ids not all zero). */
export type TraceContext = TraceIds;

/** Characters of a version-00 `traceparent`. */
export const TRACEPARENT_LENGTH = 55;

const FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The context of a well-formed `traceparent`, or undefined (W3C: an invalid one is
 * ignored and a new trace starts). Versions above 00 are read by their first four
 * fields, as the spec asks.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== "string" || value.length < TRACEPARENT_LENGTH || value.length > 512) {
    return undefined;
  }
  const head = value.slice(0, TRACEPARENT_LENGTH);
  const match = FORMAT.exec(head);
  if (!match) return undefined;
  const [, version, traceId, spanId] = match;
  if (version === "ff" || (version === "00" && value.length !== TRACEPARENT_LENGTH)) {
    return undefined;
  }
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, traceparent: head };
}
