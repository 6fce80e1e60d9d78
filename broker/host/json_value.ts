/**
 * The host's checks on what a Web Worker sends back: the worker checked them before
 * it posted, but it ran user code beside its entry, so each is checked again here.
 * An output that fails fails its job with an `InvalidOutputError`; nothing a worker
 * sends can make the host throw later, when it encodes the job's answer.
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import type { ErrorData, JsonObject } from "../../core/types.ts";
import type { WorkerLimits } from "../messages/worker.ts";
import type { LogRecord } from "../messages/sandbox.ts";
import { workerCrashed } from "../messages/errors.ts";

/**
 * Outputs of at least this many characters of JSON are large: encoding one into its
 * job's report may take the host past its heap, so its black box names that job
 * while it is encoded (see `reports.ts`).
 */
export const LARGE_OUTPUT_CHARS = 1024 * 1024;

/** The large outputs parsed and not yet collected. */
const largeOutputs = new WeakSet<JsonObject>();

/** Whether `output` was parsed from {@linkcode LARGE_OUTPUT_CHARS} or more. */
export function isLargeOutput(output: JsonObject): boolean {
  return largeOutputs.has(output);
}

/** The output of a run, parsed from its JSON text, or why it is refused. */
export function parseOutput(
  fn: string,
  json: string,
  limits: WorkerLimits,
): { ok: true; output: JsonObject } | { ok: false; error: ErrorData } {
  if (json.length > limits.maxOutputChars) {
    return invalid(
      `Function "${fn}" returned ${json.length} characters of JSON, over the limit of ${limits.maxOutputChars}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return invalid(`Function "${fn}" returned an output that is not JSON: ${error}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid(`Function "${fn}" returned an output that is not a JSON object`);
  }
  if (!within(value, limits.maxOutputDepth)) {
    return invalid(
      `Function "${fn}" returned an output nested deeper than ${limits.maxOutputDepth}`,
    );
  }
  if (json.length >= LARGE_OUTPUT_CHARS) largeOutputs.add(value as JsonObject);
  return { ok: true, output: value as JsonObject };
}

/**
 * Whether `value` (structured-cloned, so with no getters or functions) is plain
 * JSON nested at most `depth` deep: strings, finite numbers, booleans, null, arrays
 * and plain objects. A cycle is too deep. Recursion stops at `depth`.
 */
export function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      return value === null || within(value, depth);
    default:
      return false;
  }
}

/** `record`, with fields that are not plain JSON (or too deep) replaced by a note. */
export function plainFields(record: LogRecord, depth: number): LogRecord {
  if (!record.fields || isPlainJson(record.fields, depth)) return record;
  const { fields: _, ...rest } = record;
  return { ...rest, fields: { fieldsError: "Log fields are not plain JSON" } };
}

function within(value: object, depth: number): boolean {
  if (depth <= 0) return false;
  if (Array.isArray(value)) {
    for (let at = 0; at < value.length; at++) {
      if (!isPlainJson(value[at], depth - 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (!isPlainJson((value as Record<string, unknown>)[key], depth - 1)) return false;
  }
  return true;
}

function invalid(message: string): { ok: false; error: ErrorData } {
  return { ok: false, error: { name: ErrorName.InvalidOutput, message, retryable: false } };
}

/**
 * A log record from a worker, checked again here (the worker ran user code): past
 * twice its budget a run's records are dropped (the entry that hit the budget already
 * says how much it cut), fields must be plain JSON, and a record of no job says which
 * function it came from. Undefined: dropped.
 */
export function checkedLog(
  record: LogRecord,
  run: { logChars: number } | undefined,
  logId: number | null,
  fn: string,
  limits: { maxLogCharsPerAttempt: number; maxOutputDepth: number },
): LogRecord | undefined {
  if (run) {
    run.logChars += record.message.length;
    if (run.logChars > limits.maxLogCharsPerAttempt * 2) return undefined;
  }
  const plain = plainFields(record, limits.maxOutputDepth);
  return logId === null ? { ...plain, fields: { ...plain.fields, fn } } : plain;
}

/** A worker's answer of the wrong kind. */
export function protocolError(asked: string, got: string): { ok: false; error: ErrorData } {
  return { ok: false, error: workerCrashed(`Worker answered a ${asked} with a ${got} result`) };
}
