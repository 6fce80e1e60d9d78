/**
 * Messages of the broker's sandbox, in two hops:
 *
 * 1. broker <-> worker host process: length-prefixed JSON frames on the host's
 *    stdin/stdout ({@linkcode HostRequest}, {@linkcode HostMessage});
 * 2. worker host <-> one Web Worker: `postMessage` ({@linkcode WorkerRequest},
 *    {@linkcode WorkerMessage}).
 *
 * Requests carry an `id`; each gets exactly one `ok` or `error` reply with that id.
 * `log` messages carry the id of the request they belong to, or `null`. Whatever
 * crosses a hop is parsed here first: the host and the worker run user code, so
 * their messages are untrusted data.
 *
 * @module
 */
import type { ErrorData, FunctionConfig, JsonObject } from "../core/types.ts";
import { bool, type Fields, num, object, record, str, strings } from "./_fields.ts";
import { validateConfig } from "./function_config.ts";
import type { WorkerPermissions } from "./permissions.ts";
import type { StorePermissions, StoreSpec } from "./store.ts";

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
  config: FunctionConfig;
  /** What is wrong with `config`; the function cannot run while any are left. */
  problems: string[];
  /** Whether the default export is a function. */
  hasDefault: boolean;
}

/** The module and the job a worker runs. */
export interface JobFields {
  /** Function name, for messages. */
  fn: string;
  input: JsonObject;
  jobId: string;
  pipelineId: string;
  attempt: number;
}

// --- inside a host ---------------------------------------------------------------------

/** A job a host took from the Router, queued for the function's warm worker. */
export interface HostRunRequest extends JobFields {
  type: "run";
  id: number;
  /** `file:` URL of the module with a `?v=` version, so an edit is re-read. */
  url: string;
  /** Bumped whenever the module changes; a warm worker of another version is replaced. */
  version: number;
  permissions: WorkerPermissions;
  timeoutMs: number;
  /** The document `input` was narrowed from (by the function's `requires`), when it differs. */
  document?: JsonObject;
  /** The job to run right after this one, if this one succeeds. */
  then?: HostFollower;
}

/**
 * A job that runs in the same host right after the one it follows, before anything
 * sent later, and only if that one succeeded: its input is that job's document
 * merged with its output, narrowed to `requires`. It has its own `id` (its reply,
 * logs and cancel). One whose predecessor did not succeed is answered with an
 * error and never begins.
 */
export interface HostFollower
  extends Omit<HostRunRequest, "type" | "input" | "pipelineId" | "document" | "then"> {
  /** Document keys it reads; absent: all. */
  requires?: string[];
  then?: HostFollower;
}

/** Followers nest at most this deep. */
export const MAX_FOLLOWERS = 64;

// --- broker -> host -------------------------------------------------------------------

/** Load a module in a throwaway worker without permissions and describe it. */
export interface HostDescribeRequest {
  type: "describe";
  id: number;
  fn: string;
  url: string;
  /** What the worker may read: the module and its helpers. */
  read: string[];
}

/** Drop the warm worker of a function that changed or went away. */
export interface HostForgetRequest {
  type: "forget";
  fn: string;
}

/** What a host serving the Router needs to run any job of one function. */
export interface ServedFunction {
  name: string;
  config: FunctionConfig;
  /** `file:` URL of the module with a `?v=` version. */
  url: string;
  version: number;
  permissions: WorkerPermissions;
  /** Its time limit when a job sets none. */
  timeoutMs: number;
}

/**
 * Join the Router at `router` as a broker of one slot with routing id `id`, and take
 * jobs from it directly (no broker in between); `functions` is what it serves.
 */
export interface HostServeRequest {
  type: "serve";
  router: string;
  id: string;
  /** The broker's id: the Router counts the host as one of its slots. */
  of: string;
  /** The broker's host name, for the Router's registry. */
  hostname: string;
  prefetch: number;
  functions: ServedFunction[];
  /**
   * A file the host keeps the job it is running in (its only write permission), so
   * that the broker can tell the Router which job took it down when it dies.
   */
  blackBox?: string;
}

/** What a host needs to run one job of `fn`: the request fields shared by runs and followers. */
export function runFieldsOf(
  fn: ServedFunction,
  job: { jobId: string; attempt: number; timeoutMs?: number },
) {
  return {
    fn: fn.name,
    url: fn.url,
    version: fn.version,
    permissions: fn.permissions,
    timeoutMs: job.timeoutMs ?? fn.timeoutMs,
    jobId: job.jobId,
    attempt: job.attempt,
  };
}

/** The functions a serving host offers changed: this is the whole new table. */
export interface HostFunctionsRequest {
  type: "functions";
  functions: ServedFunction[];
}

/**
 * Stop taking jobs: finish those taken (for up to `graceMs`, then cancel them), leave
 * the Router, then answer `drained`.
 */
export interface HostDrainRequest {
  type: "drain";
  graceMs: number;
}

/** Everything the broker sends a host. */
export type HostRequest =
  | HostDescribeRequest
  | HostForgetRequest
  | HostServeRequest
  | HostFunctionsRequest
  | HostDrainRequest;

// --- host -> broker and worker -> host ---------------------------------------------------

/** The result of a request that succeeded, by kind. */
export type RequestResult =
  | { kind: "run"; output: JsonObject }
  | { kind: "describe"; description: ModuleDescription };

/** A request succeeded. */
export interface OkReply {
  type: "ok";
  id: number;
  result: RequestResult;
}

/** A request failed. */
export interface ErrorReply {
  type: "error";
  id: number;
  error: ErrorData;
}

/** A log record of the job with request `id`, or of no job (`null`: e.g. a stray timer). */
export interface LogMessage {
  type: "log";
  id: number | null;
  record: LogRecord;
}

/**
 * The host is up and reads requests. `key` (base64) signs its descriptions: it is
 * sent before any user code runs in the host, and user code can write to the host's
 * stdout but not read the host's memory, so only the host can sign.
 */
export interface ReadyMessage {
  type: "ready";
  pid: number;
  key: string;
}

/**
 * How describing a module ended: `body` is the JSON of a {@linkcode DescribeResult},
 * `mac` its HMAC-SHA-256 (base64) under the host's `key`, over `<id>\n<body>`. A
 * function's code can write frames to its host's stdout; it cannot sign one.
 */
export interface DescribedMessage {
  type: "described";
  id: number;
  body: string;
  mac: string;
}

/** What a {@linkcode DescribedMessage} says, once its `mac` checked out. */
export type DescribeResult =
  | { ok: true; description: ModuleDescription }
  | { ok: false; error: ErrorData };

/** A log record of a job a serving host took from the Router, for the broker's log. */
export interface JobLogMessage {
  type: "job-log";
  fn: string;
  jobId: string;
  pipelineId: string;
  record: LogRecord;
}

/** A serving host finished draining and left the Router. */
export interface DrainedMessage {
  type: "drained";
}

/** Everything a host sends the broker. */
export type HostMessage =
  | ReadyMessage
  | DescribedMessage
  | LogMessage
  | JobLogMessage
  | DrainedMessage;

// --- host -> worker --------------------------------------------------------------------

/** Import the module at `url`; reply with its description. */
export interface WorkerLoadRequest {
  type: "load";
  id: number;
  fn: string;
  url: string;
}

/** Call the loaded module's default export. */
export interface WorkerRunRequest extends JobFields {
  type: "run";
  id: number;
  /** The job of the same function to run right after this one, if this one succeeds. */
  then?: WorkerFollower;
}

/**
 * A job the worker runs the moment the run it follows succeeds, before anything
 * else: its input is that run's input merged with its output, narrowed to
 * `requires` (the same function's, so this is the document narrowed so). One whose
 * predecessor failed never begins and gets no reply (its host answers it); one
 * stopped before it began, or whose predecessor was stopped, gets an error reply.
 */
export interface WorkerFollower {
  id: number;
  jobId: string;
  attempt: number;
  /** Document keys it reads; absent: all. */
  requires?: string[];
  then?: WorkerFollower;
}

/** Abort `ctx.signal` of the run with this id, with `reason`. */
export interface WorkerAbortRequest {
  type: "abort";
  id: number;
  reason: ErrorData;
}

/** Everything a host sends a worker. */
export type WorkerRequest = WorkerLoadRequest | WorkerRunRequest | WorkerAbortRequest;

/** Everything a worker sends its host. */
export type WorkerMessage = OkReply | ErrorReply | LogMessage;

// --- parsing -----------------------------------------------------------------------------

/** Parses a frame from a host. @throws {TypeError} when it is not a {@linkcode HostMessage}. */
export function parseHostMessage(value: unknown): HostMessage {
  const m = record(value, "message");
  switch (m.type) {
    case "ready":
      return { type: "ready", pid: num(m, "pid"), key: str(m, "key") };
    case "described":
      return { type: "described", id: num(m, "id"), body: str(m, "body"), mac: str(m, "mac") };
    case "log": {
      const log = parseReply(m);
      if (log.type !== "log") throw new TypeError("Expected a log message");
      return log;
    }
    case "job-log":
      return {
        type: "job-log",
        fn: str(m, "fn"),
        jobId: str(m, "jobId"),
        pipelineId: str(m, "pipelineId"),
        record: parseLogRecord(m.record),
      };
    case "drained":
      return { type: "drained" };
    default:
      throw new TypeError(`Unknown host message type ${JSON.stringify(m.type)}`);
  }
}

/** Parses a message from a worker. @throws {TypeError} when it is not a {@linkcode WorkerMessage}. */
export function parseWorkerMessage(value: unknown): WorkerMessage {
  const m = record(value, "message");
  if (m.type === "ok" || m.type === "error" || m.type === "log") return parseReply(m);
  throw new TypeError(`Unknown worker message type ${JSON.stringify(m.type)}`);
}

/** Parses a frame from the broker. @throws {TypeError} when it is not a {@linkcode HostRequest}. */
export function parseHostRequest(value: unknown): HostRequest {
  const m = record(value, "request");
  switch (m.type) {
    case "describe":
      return {
        type: "describe",
        id: num(m, "id"),
        fn: str(m, "fn"),
        url: str(m, "url"),
        read: strings(m, "read"),
      };
    case "forget":
      return { type: "forget", fn: str(m, "fn") };
    case "serve":
      return {
        type: "serve",
        router: str(m, "router"),
        id: str(m, "id"),
        of: str(m, "of"),
        hostname: str(m, "hostname"),
        prefetch: num(m, "prefetch"),
        functions: servedFunctions(m.functions),
        ...(m.blackBox === undefined ? {} : { blackBox: str(m, "blackBox") }),
      };
    case "functions":
      return { type: "functions", functions: servedFunctions(m.functions) };
    case "drain":
      return { type: "drain", graceMs: num(m, "graceMs") };
    default:
      throw new TypeError(`Unknown host request type ${JSON.stringify(m.type)}`);
  }
}

function servedFunctions(value: unknown): ServedFunction[] {
  if (!Array.isArray(value)) throw new TypeError("functions must be an array");
  return value.map((item) => {
    const f = record(item, "function");
    const permissions = record(f.permissions, "permissions");
    // A kind left out would be inherited from the host, which has FFI: never granted.
    for (const kind of ["run", "ffi", "sys", "import"]) {
      if (permissions[kind] !== false) throw new TypeError(`permissions.${kind} must be false`);
    }
    return {
      name: str(f, "name"),
      // The broker validated these; the worker constructor re-checks the permissions.
      config: validateConfig(f.config).config,
      url: str(f, "url"),
      version: num(f, "version"),
      permissions: permissions as unknown as WorkerPermissions,
      timeoutMs: num(f, "timeoutMs"),
    };
  });
}

/**
 * A chain of followers, each read by `fields` plus `requires` and `then`, at most
 * {@linkcode MAX_FOLLOWERS} deep.
 */
function parseChain<T extends { requires?: string[]; then?: T }>(
  value: unknown,
  fields: (m: Fields) => Omit<T, "requires" | "then">,
  depth = 1,
): T {
  if (depth > MAX_FOLLOWERS) throw new TypeError(`Followers nest deeper than ${MAX_FOLLOWERS}`);
  const m = record(value, "then");
  return {
    ...fields(m),
    ...(m.requires === undefined ? {} : { requires: strings(m, "requires") }),
    ...(m.then === undefined ? {} : { then: parseChain(m.then, fields, depth + 1) }),
  } as T; // `fields` gives the rest of a T; TypeScript cannot see through the Omit.
}

/** Parses a message from a host. @throws {TypeError} when it is not a {@linkcode WorkerRequest}. */
export function parseWorkerRequest(value: unknown): WorkerRequest {
  const m = record(value, "request");
  switch (m.type) {
    case "load":
      return { type: "load", id: num(m, "id"), fn: str(m, "fn"), url: str(m, "url") };
    case "run":
      return {
        type: "run",
        id: num(m, "id"),
        ...jobFields(m),
        ...(m.then === undefined ? {} : {
          then: parseChain<WorkerFollower>(m.then, (f) => ({
            id: num(f, "id"),
            jobId: str(f, "jobId"),
            attempt: num(f, "attempt"),
          })),
        }),
      };
    case "abort":
      return { type: "abort", id: num(m, "id"), reason: parseErrorData(m.reason) };
    default:
      throw new TypeError(`Unknown worker request type ${JSON.stringify(m.type)}`);
  }
}

/** Parses a worker host's `--store` argument. @throws {TypeError} */
export function parseStoreSpec(value: unknown): StoreSpec {
  const m = record(value, "store");
  const permissions = m.permissions === undefined
    ? undefined
    : record(m.permissions, "permissions");
  const granted: StorePermissions = {};
  for (const kind of ["read", "write", "net", "env"] as const) {
    if (permissions?.[kind] !== undefined) granted[kind] = strings(permissions, kind);
  }
  return {
    module: str(m, "module"),
    ...(m.options === undefined ? {} : { options: object(m.options, "options") }),
    ...(permissions ? { permissions: granted } : {}),
  };
}

/** Parses {@linkcode ErrorData}. @throws {TypeError} */
export function parseErrorData(value: unknown): ErrorData {
  const e = record(value, "error");
  const stack = e.stack === undefined ? undefined : str(e, "stack");
  return {
    name: str(e, "name"),
    message: str(e, "message"),
    ...(stack === undefined ? {} : { stack }),
    retryable: bool(e, "retryable"),
  };
}

function parseReply(m: Fields): OkReply | ErrorReply | LogMessage {
  if (m.type === "error") {
    return { type: "error", id: num(m, "id"), error: parseErrorData(m.error) };
  }
  if (m.type === "log") {
    return {
      type: "log",
      id: m.id === null ? null : num(m, "id"),
      record: parseLogRecord(m.record),
    };
  }
  const result = record(m.result, "result");
  const id = num(m, "id");
  if (result.kind === "run") {
    return { type: "ok", id, result: { kind: "run", output: object(result.output, "output") } };
  }
  if (result.kind === "describe") {
    return {
      type: "ok",
      id,
      result: { kind: "describe", description: parseDescription(result.description) },
    };
  }
  throw new TypeError(`Unknown result kind ${JSON.stringify(result.kind)}`);
}

/**
 * Parses a module's description. The config is checked again here, on each side:
 * the worker that validated it also ran the user's code.
 */
function parseDescription(value: unknown): ModuleDescription {
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

function parseLogRecord(value: unknown): LogRecord {
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

function jobFields(m: Fields): JobFields {
  return {
    fn: str(m, "fn"),
    input: object(m.input, "input"),
    jobId: str(m, "jobId"),
    pipelineId: str(m, "pipelineId"),
    attempt: num(m, "attempt"),
  };
}

/** For the `default` branch of a `switch` over a message union. */
export function assertNever(value: never): never {
  throw new TypeError(`Unhandled message ${JSON.stringify(value)}`);
}
