/**
 * Messages between a worker host and one of its Web Workers, by `postMessage`
 * ({@linkcode WorkerRequest}, {@linkcode WorkerMessage}). Requests carry an `id`;
 * each gets exactly one `ok` or `error` reply with that id. `log` messages carry the
 * id of the run they belong to, or `null`. The worker runs user code: what it posts
 * is parsed first.
 *
 * @module
 */
import type { ErrorData, JsonObject } from "../../core/types.ts";
import { type Fields, num, object, record, str, strings } from "./_fields.ts";
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

function parseReply(m: Fields): OkReply | ErrorReply | LogMessage {
  if (m.type === "error") {
    return { type: "error", id: num(m, "id"), error: parseErrorData(m.error) };
  }
  if (m.type === "log") return parseLogMessage(m);
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

function jobFields(m: Fields): JobFields {
  return {
    fn: str(m, "fn"),
    input: object(m.input, "input"),
    jobId: str(m, "jobId"),
    pipelineId: str(m, "pipelineId"),
    attempt: num(m, "attempt"),
  };
}
