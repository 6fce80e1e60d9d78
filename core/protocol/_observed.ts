/**
 * Readers of what the protocol carries for observability: W3C `traceparent` values,
 * and job log records (`job-logs`): a record's message is cut at
 * `PROTOCOL_LIMITS.maxLogMessage` characters, and one event holds at most
 * `PROTOCOL_LIMITS.maxLogRecords` of them, so no broker can make the Router hold
 * more per message than that.
 *
 * @module
 */
import type { JobLogLevel, JobLogRecord } from "./messages.ts";
import { PROTOCOL_LIMITS } from "./messages.ts";
import {
  amount,
  cut,
  FieldError,
  fields,
  jsonObject,
  list,
  maybe,
  need,
  oneOf,
  text,
} from "./_fields.ts";
import { parseTraceparent } from "../tracing/traceparent.ts";

/** A W3C `traceparent` (version 00: 55 characters), kept as its first four fields. */
export function traceparent(value: unknown): string {
  const parsed = parseTraceparent(value);
  if (!parsed) throw new FieldError("a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)");
  return parsed.traceparent;
}

const level = oneOf<JobLogLevel>(["debug", "info", "warn", "error"]);
const message = (value: unknown) => cut(text(value), PROTOCOL_LIMITS.maxLogMessage);

/** One {@linkcode JobLogRecord}. */
export function logRecord(value: unknown): JobLogRecord {
  const o = fields(value);
  const record: JobLogRecord = {
    time: need(o, "time", amount),
    level: need(o, "level", level),
    message: need(o, "message", message),
  };
  const extra = maybe(o, "fields", jsonObject);
  if (extra !== undefined) record.fields = extra;
  return record;
}

/** The records of one `job-logs` event. */
export function logRecords(value: unknown): JobLogRecord[] {
  return list(value, logRecord, PROTOCOL_LIMITS.maxLogRecords);
}
