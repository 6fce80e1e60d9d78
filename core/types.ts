/**
 * Data types shared by the client, the daemons and function modules.
 *
 * @module
 */

/** Any JSON value. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object: a function's input, output, or a pipeline's document. */
export type JsonObject = { [key: string]: JsonValue };

/** An error as plain data, so it can cross Worker and process boundaries. */
export interface ErrorData {
  /** The error class name, e.g. `TypeError`, `JobTimeoutError`. Compare this, not `instanceof`. */
  name: string;
  /** Human-readable message. */
  message: string;
  /** Stack trace where known. */
  stack?: string;
  /** Whether another attempt may succeed. */
  retryable: boolean;
  /**
   * Set only by the sandbox, never by a function: the process or Web Worker that ran
   * the attempt died. A crash is retried whatever `retries` says, until it is poison.
   * A function's own error never carries it, whatever its name.
   */
  crashed?: boolean;
  /**
   * With `crashed`: the process that died ran other jobs beside this one, so the crash
   * may have been theirs. It does not count toward poison, and the next attempt runs
   * alone in its worker host, where a crash is its own.
   */
  shared?: boolean;
}

/** Permissions a function module may ask for; anything left out is denied. */
export interface FunctionPermissions {
  /** Hosts (`"example.com"`, `"127.0.0.1:8000"`) the function may connect to, or true for any. */
  net?: boolean | string[];
  /** Paths it may read, or true for any. */
  read?: boolean | string[];
  /** Paths it may write, or true for any. */
  write?: boolean | string[];
  /** Environment variables it may read, or true for any. */
  env?: boolean | string[];
}

/** The optional named export `config` of a function module. */
export interface FunctionConfig {
  /** Document keys the function reads; its input is restricted to these when given. */
  requires?: string[];
  /** What the function may touch. Default: nothing. */
  permissions?: FunctionPermissions;
  /** Wall-clock limit of one attempt, in ms. */
  timeoutMs?: number;
  /** Further attempts after a failed one. Default 0. */
  retries?: number;
  /**
   * `"worker"` (default): jobs of the function share a warm Web Worker, one after
   * another, so module-level state (globals, caches, timers) lives on between them,
   * as on serverless platforms. `"job"`: each job gets a fresh Web Worker, at the
   * cost of loading the module for every job.
   */
  isolation?: Isolation;
  /** At most this many attempts of the function run at once, across the cluster. */
  concurrency?: number;
  /**
   * With `concurrency`: the limit holds per distinct value of this key of the job's
   * input (for example per customer), each value apart.
   */
  concurrencyKey?: string;
  /** At most `max` attempts of the function start in any window of `perMs` ms, across the cluster. */
  rateLimit?: RateLimit;
}

/** See {@linkcode FunctionConfig.rateLimit}. */
export interface RateLimit {
  /** Starts allowed per window. */
  max: number;
  /** The window, ms. */
  perMs: number;
}

/** How a function's jobs are kept apart: see {@linkcode FunctionConfig.isolation}. */
export type Isolation = "worker" | "job";

/** Status of a pipeline. */
export type PipelineStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** Status of a job inside a pipeline. */
export type JobStatus =
  | "pending"
  | "running"
  | "waiting"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

/** The operators of a {@linkcode Condition} test. */
export type ConditionOp = "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "exists";

/** A JSON scalar: what a condition compares with. */
export type JsonScalar = null | boolean | number | string;

/**
 * A `when` condition, JSON and never code: a test of the value at a dotted `path` of
 * the job's input, or tests combined with `all`, `any` and `not`.
 */
export type Condition =
  | { path: string; op: Exclude<ConditionOp, "in" | "exists">; value: JsonScalar }
  | { path: string; op: "in"; value: JsonScalar[] }
  | { path: string; op: "exists" }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

/**
 * A job of a pipeline beyond its function's name (see `docs/protocol.md`): run it
 * once per element of a list (`map`), only when a condition holds (`when`), or wait
 * for a signal instead of running a function (`wait`).
 */
export interface JobOptions {
  /** The function it runs; default the job id. Not with `wait`. */
  fn?: string;
  /** Runs the function once per element of the list at this key of the input. */
  map?: string;
  /** With `map`: items running at once, at most. */
  mapConcurrency?: number;
  /** Runs only if this holds on its input; otherwise the job is `skipped`. */
  when?: Condition;
  /** Runs no function: waits for the signal of this name, whose object is its output. */
  wait?: string;
  /** With `wait`: fails with `SignalTimeoutError` after this many ms without the signal. */
  timeoutMs?: number;
}

/** A pipeline as submitted: a DAG of job ids, the starting document, and job -> function names. */
export interface PipelineSpec {
  /** Edges: each key runs before each of its values. A value is one job id or a list. */
  graph: Record<string, string | string[]>;
  /** The starting document. */
  data?: JsonObject;
  /**
   * Maps a job id to its function where they differ (otherwise the id is the function
   * name), or to its {@linkcode JobOptions}.
   */
  jobs?: Record<string, string | JobOptions>;
  /** The pipeline fails (`PipelineDeadlineError`) if it has not ended this many ms after it was accepted. */
  deadlineMs?: number;
  /**
   * From 0 to 9 (default 0): among ready jobs that compete for a slot, a higher
   * priority starts first; within one, first in, first out. A job that waits gains
   * a level per `priorityAgingMs` of the Router (default 10 s), so none starves.
   */
  priority?: number;
  /** Its first jobs start no earlier than this many ms after it was accepted. */
  delayMs?: number;
  /** Its first jobs start no earlier than this: epoch ms, or an ISO 8601 date and time. */
  runAt?: number | string;
}

/** What a schedule does when a tick comes while the pipeline it last started has not ended. */
export type ScheduleOverlap = "skip" | "allow";

/** A durable cron schedule as created or replaced: a pipeline started at each tick. */
export interface ScheduleSpec {
  /** Its id: letters, digits, `.`, `_` and `-`, at most 128 characters, first a letter or digit. */
  id: string;
  /** Five fields (minute first), or six with a field of seconds first; `@daily` and such too. */
  cron: string;
  /** IANA time zone the cron fields are read in. Default `UTC`. */
  timezone?: string;
  /** The pipeline each tick starts. */
  pipeline: PipelineSpec;
  /** `skip` (default): no new pipeline while the last one has not ended. `allow`: start anyway. */
  overlap?: ScheduleOverlap;
}

/** Log methods a function gets in its context; records go to the broker's log. */
export interface FunctionLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The second argument of a function: who is running and how to stop early. */
export interface FunctionContext {
  /** The job id inside its pipeline. */
  readonly jobId: string;
  /** The pipeline's id. */
  readonly pipelineId: string;
  /**
   * This attempt's number, from 1: unique for the job, and growing, but it may skip
   * (a number offered to a broker to start the job by itself is spent either way).
   */
  readonly attempt: number;
  /** Aborted when the job is cancelled or times out. */
  readonly signal: AbortSignal;
  /** Structured logging, kept with this attempt (`GET /pipelines/:id/jobs/:jobId/logs`). */
  readonly log: FunctionLogger;
  /**
   * With tracing on (`OTEL_EXPORTER_OTLP_ENDPOINT`), the span of this attempt in its
   * Web Worker: hand `traceparent` on, or make child spans of it. Absent otherwise.
   */
  readonly trace?: TraceIds;
}

/** A span's W3C trace context. */
export interface TraceIds {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** `00-<traceId>-<spanId>-<flags>`. */
  readonly traceparent: string;
}
