/**
 * Messages between a worker host and one of its Web Workers ({@linkcode WorkerRequest},
 * {@linkcode WorkerMessage}). They go over a private `MessagePort`, handed to the
 * worker's entry in the first message ({@linkcode WorkerConnect}) before any user
 * code loads: user code shares the worker's `self`, so it could read every message
 * sent there and post answers for any id; on the port it can do neither. Requests
 * carry an `id`; each gets exactly one `ok` or `error` reply with that id. `log`
 * messages carry the id of the run they belong to, or `null`. The worker runs user
 * code: what it posts is parsed first, and outputs are checked again (see
 * `broker/host/json_value.ts`).
 *
 * @module
 */
import type { ErrorData, JsonObject, TraceIds } from "../../core/types.ts";
import { type Fields, num, object, opt, record, str, strings } from "./_fields.ts";
import {
  type LogMessage,
  type ModuleDescription,
  parseDescription,
  parseErrorData,
  parseLogMessage,
} from "./sandbox.ts";

/** The module and the job a worker runs. */
export interface JobFields {
  /** Function name, for messages. */
  fn: string;
  input: JsonObject;
  jobId: string;
  pipelineId: string;
  attempt: number;
}

/**
 * Caps on what a worker sends back, the same in the worker (checked before it posts)
 * and in its host (checked again: the worker ran user code).
 */
export interface WorkerLimits {
  /** A job's output, in characters of its JSON text. */
  maxOutputChars: number;
  /** Nesting of a job's output (objects and arrays). */
  maxOutputDepth: number;
  /** An error's message; longer ones are cut, with a marker. */
  maxErrorMessageChars: number;
  /** An error's stack; longer ones are cut, with a marker. */
  maxErrorStackChars: number;
  /** Log text (messages and fields) one attempt may write; the rest is cut, and counted. */
  maxLogCharsPerAttempt: number;
}

/** The caps unless the broker's flags say otherwise. */
export const DEFAULT_WORKER_LIMITS: Readonly<WorkerLimits> = {
  maxOutputChars: 16 * 1024 * 1024,
  maxOutputDepth: 64,
  maxErrorMessageChars: 8 * 1024,
  maxErrorStackChars: 16 * 1024,
  maxLogCharsPerAttempt: 1_000_000,
};

/** Cuts an error's message and stack to their caps, saying how much was cut. */
export function capError(error: ErrorData, limits: WorkerLimits): ErrorData {
  const message = cut(error.message, limits.maxErrorMessageChars);
  const stack = error.stack === undefined ? undefined : cut(error.stack, limits.maxErrorStackChars);
  if (message === error.message && stack === error.stack) return error;
  return { ...error, message, ...(stack === undefined ? {} : { stack }) };
}

/** Room for the marker {@linkcode cut} adds, so that cutting twice changes nothing. */
const MARKER_CHARS = 40;

/** `text` cut to `max` characters, with a marker saying how long it was. */
export function cut(text: string, max: number): string {
  if (text.length <= max + MARKER_CHARS) return text;
  return `${text.slice(0, max)}... (cut: ${text.length} characters)`;
}

/** The first message on the worker's `self`: the private port, and the caps. */
export interface WorkerConnect {
  type: "connect";
  limits: WorkerLimits;
}

/** Parses {@linkcode WorkerConnect} (the port comes beside it). @throws {TypeError} */
export function parseWorkerConnect(value: unknown): WorkerConnect {
  const m = record(value, "connect");
  if (m.type !== "connect") throw new TypeError("Expected a connect message");
  return { type: "connect", limits: parseWorkerLimits(m.limits) };
}

/** Parses {@linkcode WorkerLimits}. @throws {TypeError} */
export function parseWorkerLimits(value: unknown): WorkerLimits {
  const l = record(value, "limits");
  return {
    maxOutputChars: num(l, "maxOutputChars"),
    maxOutputDepth: num(l, "maxOutputDepth"),
    maxErrorMessageChars: num(l, "maxErrorMessageChars"),
    maxErrorStackChars: num(l, "maxErrorStackChars"),
    maxLogCharsPerAttempt: num(l, "maxLogCharsPerAttempt"),
  };
}

/**
 * The result of a request that succeeded, by kind. A run's output travels as JSON
 * text: what the host parses is plain JSON by construction (structured clone would
 * carry BigInt, Maps and cycles), and its length is its size.
 */
export type RequestResult =
  | { kind: "run"; json: string }
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
  /** With tracing on: its span, for `ctx.trace`. */
  trace?: TraceIds;
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
  /** With tracing on: its span, for `ctx.trace`. */
  trace?: TraceIds;
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

/** Followers nest at most this deep. */
export const MAX_FOLLOWERS = 64;

/** Parses a message from a worker. @throws {TypeError} when it is not a {@linkcode WorkerMessage}. */
export function parseWorkerMessage(value: unknown): WorkerMessage {
  const m = record(value, "message");
  if (m.type === "ok" || m.type === "error" || m.type === "log") return parseReply(m);
  throw new TypeError(`Unknown worker message type ${JSON.stringify(m.type)}`);
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
    ...(opt(m, "requires") === undefined ? {} : { requires: strings(m, "requires") }),
    ...(opt(m, "then") === undefined ? {} : { then: parseChain(m.then, fields, depth + 1) }),
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
        ...traceOf(m),
        ...(opt(m, "then") === undefined ? {} : {
          then: parseChain<WorkerFollower>(m.then, (f) => ({
            id: num(f, "id"),
            jobId: str(f, "jobId"),
            attempt: num(f, "attempt"),
            ...traceOf(f),
          })),
        }),
      };
    case "abort":
      return { type: "abort", id: num(m, "id"), reason: parseErrorData(m.reason) };
    default:
      throw new TypeError(`Unknown worker request type ${JSON.stringify(m.type)}`);
  }
}

function parseReply(m: Fields): OkReply | ErrorReply | LogMessage {
  if (m.type === "error") {
    return { type: "error", id: num(m, "id"), error: parseErrorData(m.error) };
  }
  if (m.type === "log") return parseLogMessage(m);
  const result = record(m.result, "result");
  const id = num(m, "id");
  if (result.kind === "run") {
    return { type: "ok", id, result: { kind: "run", json: str(result, "json") } };
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

function traceOf(m: Fields): { trace?: TraceIds } {
  if (opt(m, "trace") === undefined) return {};
  const t = record(m.trace, "trace");
  return {
    trace: {
      traceId: str(t, "traceId"),
      spanId: str(t, "spanId"),
      traceparent: str(t, "traceparent"),
    },
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
