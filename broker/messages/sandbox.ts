/**
 * What every hop of the broker's sandbox shares: function log records, module
 * descriptions, errors as data, and their parsers. Whatever crosses a hop is parsed
 * first: the host and the worker run user code, so their messages are untrusted data.
 *
 * @module
 */
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { bool, type Fields, num, object, opt, record, str, strings } from "./_fields.ts";
import { type ModuleConfig, validateConfig } from "./function_config.ts";

/** Severity of a function's log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One record a function logged through `ctx.log` (or `console`). */
export interface LogRecord {
  /** Epoch ms. */
  time: number;
  level: LogLevel;
  message: string;
  fields?: JsonObject;
}

/** What loading a module found out about it. */
export interface ModuleDescription {
  /** Its `config` export, with invalid parts left out. */
  config: ModuleConfig;
  /** What is wrong with `config`; the function cannot run while any are left. */
  problems: string[];
  /** Whether the default export is a function. */
  hasDefault: boolean;
}

/** What a {@linkcode DescribedMessage} says, once its `mac` checked out. */
export type DescribeResult =
  | { ok: true; description: ModuleDescription }
  | { ok: false; error: ErrorData };

/** A log record of the job with request `id`, or of no job (`null`: e.g. a stray timer). */
export interface LogMessage {
  type: "log";
  id: number | null;
  record: LogRecord;
}

/** Parses {@linkcode ErrorData}. @throws {TypeError} */
export function parseErrorData(value: unknown): ErrorData {
  const e = record(value, "error");
  const stack = opt(e, "stack") === undefined ? undefined : str(e, "stack");
  return {
    name: str(e, "name"),
    message: str(e, "message"),
    ...(stack === undefined ? {} : { stack }),
    retryable: bool(e, "retryable"),
  };
}

/** Parses a `log` message. @throws {TypeError} */
export function parseLogMessage(m: Fields): LogMessage {
  return { type: "log", id: m.id === null ? null : num(m, "id"), record: parseLogRecord(m.record) };
}

/**
 * Parses a module's description. The config is checked again here, on each side:
 * the worker that validated it also ran the user's code.
 */
export function parseDescription(value: unknown): ModuleDescription {
  const d = record(value, "description");
  const check = validateConfig(d.config);
  const problems = [...new Set([...strings(d, "problems"), ...check.problems])];
  return { config: check.config, problems, hasDefault: bool(d, "hasDefault") };
}

/** Parses the body of a {@linkcode DescribedMessage}. @throws {TypeError} */
export function parseDescribeResult(body: string): DescribeResult {
  const m = record(JSON.parse(body), "describe result");
  if (m.ok === true) return { ok: true, description: parseDescription(m.description) };
  if (m.ok === false) return { ok: false, error: parseErrorData(m.error) };
  throw new TypeError("Expected a describe result");
}

const LEVELS: readonly string[] = ["debug", "info", "warn", "error"];

export function parseLogRecord(value: unknown): LogRecord {
  const r = record(value, "record");
  const level = str(r, "level");
  if (!LEVELS.includes(level)) throw new TypeError(`Unknown log level "${level}"`);
  return {
    time: num(r, "time"),
    level: level as LogLevel,
    message: str(r, "message"),
    ...(r.fields === undefined ? {} : { fields: object(r.fields, "fields") }),
  };
}

/** For the `default` branch of a `switch` over a message union. */
export function assertNever(value: never): never {
  throw new TypeError(`Unhandled message ${JSON.stringify(value)}`);
}
