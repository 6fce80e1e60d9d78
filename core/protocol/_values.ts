/**
 * Readers of the values that messages carry (errors, outcomes, functions, loads,
 * records, specs, plans), built on `_fields.ts`. Each returns a fresh value holding
 * only the known fields; an optional field left out stays out (no `undefined` key).
 *
 * @module
 */
import type {
  ErrorData,
  FunctionConfig,
  FunctionPermissions,
  JobOptions,
  JobStatus,
  PipelineSpec,
  RateLimit,
} from "../types.ts";
import type {
  BrokerLoad,
  FunctionInfo,
  JobOutcome,
  JobRecord,
  MapSummary,
  ReplyError,
} from "./records.ts";
import { readJobEntry, SIGNAL_NAME } from "../dag/job_options.ts";
import {
  type JobFollower,
  type JobPlan,
  MAX_PLAN_DEPTH,
  type PlannedJob,
  PROTOCOL_LIMITS,
} from "./messages.ts";
import {
  amount,
  count,
  cut,
  FieldError,
  fields,
  flag,
  id,
  inField,
  jsonObject,
  list,
  maybe,
  need,
  oneOf,
  strings,
  text,
} from "./_fields.ts";

/** Sets an optional field only when it has a value. */
function put<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** An {@linkcode ErrorData}. */
export function errorData(value: unknown): ErrorData {
  const o = fields(value);
  const data: ErrorData = {
    name: need(o, "name", errorName),
    message: need(o, "message", errorMessage),
    retryable: need(o, "retryable", flag),
  };
  put(data, "stack", maybe(o, "stack", errorStack));
  put(data, "crashed", maybe(o, "crashed", flag));
  put(data, "shared", maybe(o, "shared", flag));
  return data;
}

// A job's error may hold megabytes (a function threw its input): keep the start of it.
// Never refused: that would lose the job's result along with its over-long error.
const errorName = (value: unknown) => cut(text(value), PROTOCOL_LIMITS.maxIdLength);
const errorMessage = (value: unknown) => cut(text(value), PROTOCOL_LIMITS.maxErrorMessage);
const errorStack = (value: unknown) => cut(text(value), PROTOCOL_LIMITS.maxErrorStack);

/** A {@linkcode ReplyError}: an error with `problems` for a `PipelineValidationError`. */
export function replyError(value: unknown): ReplyError {
  const data: ReplyError = errorData(value);
  put(data, "problems", maybe(fields(value), "problems", problems));
  return data;
}

/** At most `maxProblems` lines, each cut like a message; the rest summed up in a last line. */
function problems(value: unknown): string[] {
  if (!Array.isArray(value)) throw new FieldError("a list");
  const max = PROTOCOL_LIMITS.maxProblems;
  const kept = value.length > max ? value.slice(0, max - 1) : value;
  const lines = list(kept, errorMessage);
  if (kept !== value) lines.push(`...and ${value.length - kept.length} more problems`);
  return lines;
}

/** A {@linkcode JobOutcome}: `output` is taken as it is (see `jsonObject`). */
export function outcome(value: unknown): JobOutcome {
  const o = fields(value);
  const durationMs = need(o, "durationMs", amount);
  return need(o, "ok", flag)
    ? { ok: true, output: need(o, "output", jsonObject), durationMs }
    : { ok: false, error: need(o, "error", errorData), durationMs };
}

const PERMISSION_KINDS = ["net", "read", "write", "env"] as const;

function grant(value: unknown): boolean | string[] {
  return typeof value === "boolean" ? value : strings(value);
}

function permissions(value: unknown): FunctionPermissions {
  const o = fields(value);
  const out: FunctionPermissions = {};
  for (const kind of PERMISSION_KINDS) put(out, kind, maybe(o, kind, grant));
  return out;
}

const isolation = oneOf(["worker", "job"] as const);

/** A {@linkcode FunctionConfig} (the broker validated it against its own rules). */
export function functionConfig(value: unknown): FunctionConfig {
  const o = fields(value);
  const config: FunctionConfig = {};
  put(config, "requires", maybe(o, "requires", strings));
  put(config, "permissions", maybe(o, "permissions", permissions));
  put(config, "timeoutMs", maybe(o, "timeoutMs", amount));
  put(config, "retries", maybe(o, "retries", count));
  put(config, "isolation", maybe(o, "isolation", isolation));
  // A limit of 0 would hold the function's jobs for ever: refused at the edge.
  put(config, "concurrency", maybe(o, "concurrency", positive));
  put(config, "concurrencyKey", maybe(o, "concurrencyKey", id));
  put(config, "rateLimit", maybe(o, "rateLimit", rateLimit));
  return config;
}

/** A whole number of 1 or more, at most 2^31 (a limit, a window in ms). */
function positive(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 2 ** 31) {
    throw new FieldError("a whole number from 1 to 2^31");
  }
  return value as number;
}

function rateLimit(value: unknown): RateLimit {
  const o = fields(value);
  return { max: need(o, "max", positive), perMs: need(o, "perMs", positive) };
}

/** A {@linkcode FunctionInfo}. */
export function functionInfo(value: unknown): FunctionInfo {
  const o = fields(value);
  const info: FunctionInfo = {
    name: need(o, "name", id),
    config: need(o, "config", functionConfig),
  };
  put(info, "error", maybe(o, "error", errorData));
  put(info, "source", maybe(o, "source", functionSource));
  put(info, "conflict", maybe(o, "conflict", errorMessage));
  return info;
}

const functionSource = oneOf<"router" | "local">(["router", "local"]);

/** A list of {@linkcode FunctionInfo}. */
export function functionInfos(value: unknown): FunctionInfo[] {
  return list(value, functionInfo, PROTOCOL_LIMITS.maxFunctions);
}

/** A {@linkcode BrokerLoad}. */
export function brokerLoad(value: unknown): BrokerLoad {
  const o = fields(value);
  return {
    busy: need(o, "busy", count),
    slots: need(o, "slots", count),
    loadavg: need(o, "loadavg", amount),
    cpus: need(o, "cpus", count),
    memoryUsed: need(o, "memoryUsed", amount),
    memoryTotal: need(o, "memoryTotal", amount),
    rss: need(o, "rss", amount),
  };
}

/** `{ jobId, attempt }`: a job-done's `followed`. */
export function jobAttempt(value: unknown): { jobId: string; attempt: number } {
  const o = fields(value);
  return { jobId: need(o, "jobId", id), attempt: need(o, "attempt", count) };
}

/** `{ pipelineId, jobId, attempt }`: a host-lost's `running`. */
export function runningJob(value: unknown): { pipelineId: string; jobId: string; attempt: number } {
  const o = fields(value);
  return {
    pipelineId: need(o, "pipelineId", id),
    jobId: need(o, "jobId", id),
    attempt: need(o, "attempt", count),
  };
}

const tooDeep = () => new FieldError(`nested at most ${MAX_PLAN_DEPTH} deep`);

const tooBig = () => new FieldError(`a plan of at most ${PROTOCOL_LIMITS.maxJobs} jobs`);

/**
 * A {@linkcode JobPlan}, nested at most {@linkcode MAX_PLAN_DEPTH} deep, of at most
 * `PROTOCOL_LIMITS.maxJobs` jobs over all its levels (`budget` counts them down).
 */
export function jobPlan(
  value: unknown,
  depth = 0,
  budget = { jobs: PROTOCOL_LIMITS.maxJobs },
): JobPlan {
  const o = fields(value);
  if (depth > MAX_PLAN_DEPTH) throw tooDeep();
  const plan: JobPlan = {};
  put(plan, "finish", maybe(o, "finish", flag));
  const run = o.run;
  if (run === undefined) return plan;
  if (!Array.isArray(run)) throw inField(new FieldError("a list"), "run");
  budget.jobs -= run.length;
  if (budget.jobs < 0) throw inField(tooBig(), "run");
  const jobs = new Array<PlannedJob>(run.length);
  for (let i = 0; i < run.length; i++) {
    try {
      const job = fields(run[i]);
      jobs[i] = { jobId: need(job, "jobId", id), ...jobPlan(job, depth + 1, budget) };
    } catch (error) {
      throw inField(inField(error, i), "run");
    }
  }
  plan.run = jobs;
  return plan;
}

/** A {@linkcode JobFollower}, nested at most {@linkcode MAX_PLAN_DEPTH} deep. */
export function jobFollower(value: unknown, depth = 1): JobFollower {
  const o = fields(value);
  if (depth > MAX_PLAN_DEPTH) throw tooDeep();
  const follower: JobFollower = {
    jobId: need(o, "jobId", id),
    fn: need(o, "fn", id),
    attempt: need(o, "attempt", count),
  };
  if (o.then !== undefined) {
    try {
      follower.then = jobFollower(o.then, depth + 1);
    } catch (error) {
      throw inField(error, "then");
    }
  }
  return follower;
}

const jobStatus = oneOf<JobStatus>([
  "pending",
  "running",
  "waiting",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
]);

/** A {@linkcode JobRecord}. */
export function jobRecord(value: unknown): JobRecord {
  const o = fields(value);
  const record: JobRecord = {
    jobId: need(o, "jobId", id),
    fn: need(o, "fn", functionName),
    status: need(o, "status", jobStatus),
    attempts: need(o, "attempts", count),
  };
  put(record, "lastAttempt", maybe(o, "lastAttempt", count));
  put(record, "broker", maybe(o, "broker", id));
  put(record, "host", maybe(o, "host", id));
  put(record, "output", maybe(o, "output", jsonObject));
  put(record, "error", maybe(o, "error", errorData));
  put(record, "attemptErrors", maybe(o, "attemptErrors", errorDatas));
  put(record, "startedAt", maybe(o, "startedAt", amount));
  put(record, "finishedAt", maybe(o, "finishedAt", amount));
  put(record, "durationMs", maybe(o, "durationMs", amount));
  put(record, "retryAt", maybe(o, "retryAt", amount));
  put(record, "map", maybe(o, "map", mapSummary));
  put(record, "signal", maybe(o, "signal", signalName));
  put(record, "waitUntil", maybe(o, "waitUntil", amount));
  return record;
}

function mapSummary(value: unknown): MapSummary {
  const o = fields(value);
  return {
    items: need(o, "items", count),
    pending: need(o, "pending", count),
    running: need(o, "running", count),
    succeeded: need(o, "succeeded", count),
    failed: need(o, "failed", count),
    cancelled: need(o, "cancelled", count),
  };
}

/** A function name, or empty (a `wait` job runs none). */
export function functionName(value: unknown): string {
  return value === "" ? "" : id(value);
}

/** A signal's name (see `SIGNAL_NAME`). */
export function signalName(value: unknown): string {
  if (typeof value !== "string" || !SIGNAL_NAME.test(value)) {
    throw new FieldError('a signal name of 1 to 100 letters, digits or "_.:-"');
  }
  return value;
}

/** A `jobs` entry of a spec: a function name, or job options (kept only when valid). */
function jobEntry(value: unknown): string | JobOptions {
  if (typeof value === "string") return id(value);
  const o = fields(value);
  const problems: string[] = [];
  const { options } = readJobEntry("job", o, PROTOCOL_LIMITS.maxIdLength, problems);
  if (problems.length > 0 || !options) throw new FieldError("job options (see docs/protocol.md)");
  return options;
}

function errorDatas(value: unknown): ErrorData[] {
  return list(value, errorData, PROTOCOL_LIMITS.maxJobs);
}

/** A list of {@linkcode JobRecord}. */
export function jobRecords(value: unknown): JobRecord[] {
  return list(value, jobRecord, PROTOCOL_LIMITS.maxJobs);
}

/** Reads every value of an object into a new one (`fromEntries` keeps a `__proto__` key a key). */
function entries<T>(value: unknown, read: (value: unknown) => T): Record<string, T> {
  return Object.fromEntries(
    Object.entries(fields(value)).map(([key, entry]) => {
      try {
        return [key, read(entry)];
      } catch (error) {
        throw inField(error, key);
      }
    }),
  );
}

function edges(value: unknown): string | string[] {
  return typeof value === "string" ? value : strings(value);
}

function graph(value: unknown): Record<string, string | string[]> {
  return entries(value, edges);
}

function functionsOfJobs(value: unknown): Record<string, string | JobOptions> {
  return entries(value, jobEntry);
}

/**
 * A {@linkcode PipelineSpec}'s shape, as the Router sends one it validated. A spec
 * from a client is checked by `validatePipeline` instead, which reports every problem.
 */
export function pipelineSpec(value: unknown): PipelineSpec {
  const o = fields(value);
  const spec: PipelineSpec = { graph: need(o, "graph", graph) };
  put(spec, "data", maybe(o, "data", jsonObject));
  put(spec, "jobs", maybe(o, "jobs", functionsOfJobs));
  put(spec, "deadlineMs", maybe(o, "deadlineMs", amount));
  put(spec, "priority", maybe(o, "priority", count));
  put(spec, "delayMs", maybe(o, "delayMs", amount));
  put(spec, "runAt", maybe(o, "runAt", epochOrDate));
  return spec;
}

function epochOrDate(value: unknown): number | string {
  return typeof value === "string" ? id(value) : amount(value);
}
