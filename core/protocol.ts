/**
 * The wire protocol between pipelinin's daemons and clients, as one typed module.
 *
 * Every message on the Router's request socket is two frames, `PROTOCOL` then one
 * JSON object with a `type`; a batch is `PROTOCOL` then several JSON frames, each one
 * message, handled in order (see {@linkcode splitBatch}). Requests carry an `id` and get exactly one `reply`
 * with the same `id`. Events carry no `id` and get no reply. Raw frames are parsed
 * into these types here, at the edge; nothing else handles untyped data.
 * `docs/protocol.md` documents the same for other languages.
 *
 * @module
 */
import type {
  ErrorData,
  FunctionConfig,
  JobStatus,
  JsonObject,
  PipelineSpec,
  PipelineStatus,
} from "./types.ts";

/** The first frame of every message; changes only with an incompatible protocol. */
export const PROTOCOL = "pipelinin/1";

/** What a broker says about one function module. */
export interface FunctionInfo {
  /** The function's name (the module's base name). */
  name: string;
  /** Its `config` export, validated. */
  config: FunctionConfig;
  /** Set when the module failed to load; the function cannot run. */
  error?: ErrorData;
}

/** A function as known to the cluster. */
export interface FunctionView {
  name: string;
  config: FunctionConfig;
  /** Brokers that serve it. */
  brokers: string[];
  /** Load errors reported by brokers where it failed to load. */
  errors: Array<{ broker: string; message: string }>;
}

/** A broker's host and process load, reported at an interval. */
export interface BrokerLoad {
  /** Busy slots. */
  busy: number;
  /** All slots. */
  slots: number;
  /** Host 1-minute load average. */
  loadavg: number;
  /** Host CPUs. */
  cpus: number;
  /** Host memory in use, bytes. */
  memoryUsed: number;
  /** Host memory, bytes. */
  memoryTotal: number;
  /** Resident set size of the broker and its worker hosts, bytes. */
  rss: number;
}

/** How a job attempt ended, as a broker reports it. */
export type JobOutcome =
  | { ok: true; output: JsonObject; durationMs: number }
  | { ok: false; error: ErrorData; durationMs: number };

/** One job of a pipeline, as the Router records it. */
export interface JobRecord {
  /** The job id inside its pipeline. */
  jobId: string;
  /** The function it runs. */
  fn: string;
  /** Its status. */
  status: JobStatus;
  /** Attempts started so far. */
  attempts: number;
  /**
   * The highest attempt number given out, once one was offered to a broker to start
   * the job by itself (spent whether or not it does): attempt numbers are unique per
   * job but may skip, and `attempts` counts runs.
   */
  lastAttempt?: number;
  /** The broker of the last attempt. */
  broker?: string;
  /** Its output once succeeded. */
  output?: JsonObject;
  /** The last attempt's error. */
  error?: ErrorData;
  /** Each failed attempt's error, oldest first. */
  attemptErrors?: ErrorData[];
  /** Epoch ms the first attempt started. */
  startedAt?: number;
  /** Epoch ms it ended. */
  finishedAt?: number;
  /** Run time of the last attempt, ms. */
  durationMs?: number;
  /** Epoch ms before which its next attempt does not start, once an attempt failed and is retried. */
  retryAt?: number;
}

/** A pipeline as the Router records it. */
export interface PipelineRecord {
  /** Its id. */
  id: string;
  /** Its status. */
  status: PipelineStatus;
  /** What was submitted. */
  spec: PipelineSpec;
  /** The document: data merged with every finished job's output. */
  document: JsonObject;
  /** Its jobs. */
  jobs: JobRecord[];
  /** Epoch ms it was accepted. */
  createdAt: number;
  /** Epoch ms it started running. */
  startedAt?: number;
  /** Epoch ms it ended. */
  finishedAt?: number;
  /** Wall time from start to end, ms. */
  durationMs?: number;
  /** Why it failed, when it did. */
  error?: ErrorData;
}

/** Configuration the Router hands to brokers and pipeliners (the seed's `get configuration`). */
export interface ClusterConfig {
  /** How often peers send their status, ms. */
  heartbeatMs: number;
  /** The Router's broadcast endpoint. */
  broadcast: string;
}

/** An error in a reply. */
export interface ReplyError extends ErrorData {
  /** Every problem, for `PipelineValidationError`. */
  problems?: string[];
}

// ---- Requests (carry `id`, get one `reply`) --------------------------------------------

/** Submit a pipeline; replies `{ pipelineId, status }`. */
export interface SubmitRequest {
  type: "submit";
  id: string;
  pipeline: PipelineSpec;
  /** A repeat with the same key returns the first pipeline's id. */
  idempotencyKey?: string;
  /**
   * Also wait up to this long (ms, at most 60,000) for the pipeline to end: the reply
   * is then its record, as a {@linkcode WaitRequest} answers, instead of `{pipelineId, status}`.
   */
  waitMs?: number;
}
/**
 * Waits until the pipeline ends, or `timeoutMs` (default 5,000, at most 60,000)
 * passes; replies its {@linkcode PipelineRecord} either way (check `status`).
 */
export interface WaitRequest {
  type: "wait";
  id: string;
  pipelineId: string;
  timeoutMs?: number;
}
/** A pipeline's record; replies {@linkcode PipelineRecord}. */
export interface StatusRequest {
  type: "status";
  id: string;
  pipelineId: string;
}
/** Cancel a pipeline; replies `{ pipelineId, status }`. */
export interface CancelRequest {
  type: "cancel";
  id: string;
  pipelineId: string;
}
/** The cluster configuration; replies {@linkcode ClusterConfig}. */
export interface ConfigurationRequest {
  type: "get-configuration";
  id: string;
}
/** Functions known to any broker; replies `{ functions: Array<FunctionInfo & { brokers }> }`. */
export interface ListFunctionsRequest {
  type: "list-functions";
  id: string;
}
/** A broker joins (or rejoins); replies {@linkcode ClusterConfig}. */
export interface BrokerHelloRequest {
  type: "broker-hello";
  id: string;
  /**
   * `prefetch`: jobs per slot it takes ahead of time and queues itself, so a slot
   * never waits for the Router between jobs (absent: 0). `of`: set by a broker's worker
   * host that takes jobs itself (one slot), the id of that broker; it counts as that
   * broker's slot, not as a broker of its own.
   */
  broker: {
    id: string;
    host: string;
    pid: number;
    slots: number;
    prefetch?: number;
    of?: string;
  };
  functions: FunctionInfo[];
}
/** A pipeliner joins (or rejoins); replies {@linkcode ClusterConfig}. */
export interface PipelinerHelloRequest {
  type: "pipeliner-hello";
  id: string;
  pipeliner: { id: string; host: string; pid: number };
}

/** Any request. */
export type Request =
  | SubmitRequest
  | StatusRequest
  | WaitRequest
  | CancelRequest
  | ConfigurationRequest
  | ListFunctionsRequest
  | BrokerHelloRequest
  | PipelinerHelloRequest;

/** The one answer to a request. */
export type Reply =
  | { type: "reply"; id: string; ok: true; result: unknown }
  | { type: "reply"; id: string; ok: false; error: ReplyError };

// ---- Events to the Router -----------------------------------------------------------

/** A broker's heartbeat with its load. */
export interface BrokerStatusEvent {
  type: "broker-status";
  load: BrokerLoad;
}
/** A broker's function list changed. */
export interface BrokerFunctionsEvent {
  type: "broker-functions";
  functions: FunctionInfo[];
}
/** A broker finished a job attempt. */
export interface JobDoneEvent {
  type: "job-done";
  pipelineId: string;
  jobId: string;
  attempt: number;
  outcome: JobOutcome;
  /** The job of `job-run.then` this broker started right after this one succeeded. */
  followed?: { jobId: string; attempt: number };
}
/** A broker is leaving; the Router stops sending it jobs. */
export interface GoodbyeEvent {
  type: "goodbye";
}
/**
 * One of the sender's worker hosts (a broker whose `of` is the sender) died. The job it
 * was running, if any, failed with `error`; the jobs it held behind that one never
 * began and run again. A host started again joins anew.
 */
export interface HostLostEvent {
  type: "host-lost";
  /** The host's broker id. */
  host: string;
  /** The process that died (a host started again joins under the same id). */
  pid: number;
  error: ErrorData;
  /** The job it was running when it died. */
  running?: { pipelineId: string; jobId: string; attempt: number };
}
/** A pipeliner's heartbeat. */
export interface PipelinerStatusEvent {
  type: "pipeliner-status";
  active: number;
}
/** A pipeliner asks for a ready job to run. */
export interface JobRequestEvent {
  type: "job-request";
  pipelineId: string;
  jobId: string;
  fn: string;
  input: JsonObject;
  /** What the Router may do by itself once this job succeeds (decided ahead by the pipeliner). */
  plan?: JobPlan;
}

/**
 * Steps a pipeliner decides ahead, for the Router to take the moment a job succeeds
 * without a round trip to the pipeliner: start jobs whose only parent it is, and end
 * the pipeline when it is the last job. The input of a started job, and the document
 * of the end, is the job's input merged with its output. A failure takes no step:
 * the pipeliner decides.
 */
export interface JobPlan {
  /** Jobs to start, each with its own plan. */
  run?: PlannedJob[];
  /** End the pipeline as succeeded. */
  finish?: boolean;
}

/** A job of a {@linkcode JobPlan}. */
export interface PlannedJob extends JobPlan {
  jobId: string;
}
/** A pipeliner reports a pipeline ended. */
export interface PipelineFinishEvent {
  type: "pipeline-finish";
  pipelineId: string;
  status: "succeeded" | "failed" | "cancelled";
  document: JsonObject;
}

/** Any event a peer sends to the Router. */
export type RouterEvent =
  | BrokerStatusEvent
  | BrokerFunctionsEvent
  | JobDoneEvent
  | GoodbyeEvent
  | HostLostEvent
  | PipelinerStatusEvent
  | JobRequestEvent
  | PipelineFinishEvent;

// ---- Events from the Router ---------------------------------------------------------

/** Run one attempt of a job (to a broker). */
export interface JobRunEvent {
  type: "job-run";
  pipelineId: string;
  jobId: string;
  fn: string;
  attempt: number;
  input: JsonObject;
  /**
   * The job to start, on this broker, the moment this one succeeds, if the broker
   * can (else the Router starts it when told of the success): its input is this
   * job's input merged with its output. The broker says so in `job-done.followed`.
   */
  then?: JobFollower;
}

/** A job a broker may start by itself after another; see {@linkcode JobRunEvent.then}. */
export interface JobFollower {
  jobId: string;
  fn: string;
  attempt: number;
  then?: JobFollower;
}
/** Stop a running job (to a broker): only that attempt when `attempt` is given. */
export interface JobCancelEvent {
  type: "job-cancel";
  pipelineId: string;
  jobId: string;
  attempt?: number;
}
/** Drive this pipeline (to a pipeliner). `jobs` holds what already happened, for resuming. */
export interface PipelineAssignEvent {
  type: "pipeline-assign";
  pipelineId: string;
  spec: PipelineSpec;
  jobs: JobRecord[];
}
/** A job's final outcome, after retries (to a pipeliner). */
export interface JobResultEvent {
  type: "job-result";
  pipelineId: string;
  jobId: string;
  outcome: JobOutcome;
}
/** Stop driving this pipeline (to a pipeliner). */
export interface PipelineCancelEvent {
  type: "pipeline-cancel";
  pipelineId: string;
}
/** The Router does not know the sender (it restarted, or declared it dead): say hello again. */
export interface HelloAgainEvent {
  type: "hello-again";
}
/** A message could not be understood and had no request id to reply to. */
export interface ProtocolErrorEvent {
  type: "error";
  error: ErrorData;
}

/** Any event the Router sends to a peer. */
export type PeerEvent =
  | JobRunEvent
  | JobCancelEvent
  | PipelineAssignEvent
  | JobResultEvent
  | PipelineCancelEvent
  | HelloAgainEvent
  | ProtocolErrorEvent;

/** What the Router publishes on its broadcast socket, topic frame first. */
export interface PipelineEndedBroadcast {
  type: "pipeline-ended";
  pipelineId: string;
  status: PipelineStatus;
}

/** The broadcast topic for the end of one pipeline. */
export function endedTopic(pipelineId: string): string {
  return `pipeline.ended.${pipelineId}`;
}

// ---- Encoding and parsing -----------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const protocolFrame = encoder.encode(PROTOCOL);

/** A message could not be parsed; the text says what is wrong with it. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  /** The request id, when the message had a readable one (so it can be answered). */
  readonly requestId: string | undefined;
  constructor(message: string, requestId?: string) {
    super(message);
    this.requestId = requestId;
  }
}

/** The frames of one message: protocol frame, then its JSON. */
export function encode(message: Request | Reply | RouterEvent | PeerEvent): Uint8Array[] {
  return [protocolFrame, encoder.encode(JSON.stringify(message))];
}

/** The most messages one batch carries. */
export const MAX_BATCH = 256;

/**
 * Encodes messages as batches: `PROTOCOL`, then one JSON frame per message, at most
 * {@linkcode MAX_BATCH} per batch. One message alone is a plain two-frame message.
 */
export function encodeBatches(bodies: readonly Uint8Array[]): Uint8Array[][] {
  const batches: Uint8Array[][] = [];
  for (let at = 0; at < bodies.length; at += MAX_BATCH) {
    batches.push([protocolFrame, ...bodies.slice(at, at + MAX_BATCH)]);
  }
  return batches;
}

/** The JSON frame of one message (its second frame). */
export function encodeBody(message: Request | Reply | RouterEvent | PeerEvent): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Splits a batch (`PROTOCOL`, then several JSON frames) into two-frame messages; any
 * other message comes back whole, for the parser to judge.
 */
export function splitBatch(frames: readonly Uint8Array[]): Uint8Array[][] {
  if (frames.length <= 2 || !sameBytes(frames[0]!, protocolFrame)) return [frames as Uint8Array[]];
  return frames.slice(1).map((json) => [frames[0]!, json]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads the protocol frame and JSON body; returns the object with a string `type`. */
function body(frames: readonly Uint8Array[]): Record<string, unknown> & { type: string } {
  if (frames.length !== 2) {
    throw new ProtocolError(`Expected 2 frames ("${PROTOCOL}", JSON), got ${frames.length}`);
  }
  let tag: string;
  let text: string;
  try {
    tag = decoder.decode(frames[0]);
    text = decoder.decode(frames[1]);
  } catch {
    throw new ProtocolError("Frames are not valid UTF-8");
  }
  if (tag !== PROTOCOL) {
    throw new ProtocolError(`Unknown protocol "${tag.slice(0, 40)}": expected "${PROTOCOL}"`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`Malformed JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("The message must be a JSON object");
  }
  const record = value as Record<string, unknown>;
  if (typeof record.type !== "string") {
    const id = typeof record.id === "string" ? record.id : undefined;
    throw new ProtocolError('The message has no string "type"', id);
  }
  return record as Record<string, unknown> & { type: string };
}

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === "string" && v.length > 0;
const isObject: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isArray: Check = Array.isArray;
/** Plans nest at most this deep; one nested deeper is malformed. */
export const MAX_PLAN_DEPTH = 16;
const isPlan = (v: unknown, depth = 0): boolean => {
  if (!isObject(v) || depth > MAX_PLAN_DEPTH) return false;
  const { run, finish } = v as Record<string, unknown>;
  if (finish !== undefined && typeof finish !== "boolean") return false;
  if (run === undefined) return true;
  return Array.isArray(run) &&
    run.every((job) => isObject(job) && isString(job.jobId) && isPlan(job, depth + 1));
};
const isFollower = (v: unknown, depth = 1): boolean => {
  if (!isObject(v) || depth > MAX_PLAN_DEPTH) return false;
  const { jobId, fn, attempt, then } = v as Record<string, unknown>;
  return isString(jobId) && isString(fn) && isInt(attempt) &&
    (then === undefined || isFollower(then, depth + 1));
};
const isFollowed: Check = (v) =>
  isObject(v) && isString((v as Record<string, unknown>).jobId) &&
  isInt((v as Record<string, unknown>).attempt);
const isErrorData: Check = (v) =>
  isObject(v) && isString((v as Record<string, unknown>).name) &&
  isString((v as Record<string, unknown>).message);
const isRunningJob: Check = (v) =>
  isObject(v) && isString((v as Record<string, unknown>).pipelineId) && isFollowed(v);
const isOutcome: Check = (v) =>
  isObject(v) && typeof (v as JobOutcome).ok === "boolean" &&
  ((v as JobOutcome).ok ? isObject((v as { output: unknown }).output) : isObject(
    (v as { error: unknown }).error,
  ));

function require(
  message: Record<string, unknown>,
  fields: Record<string, Check>,
  requestId?: string,
): void {
  const bad = Object.entries(fields).filter(([key, check]) => !check(message[key]));
  if (bad.length > 0) {
    const names = bad.map(([key]) => `"${key}"`).join(", ");
    throw new ProtocolError(
      `Message "${message.type}" has a missing or invalid ${names}`,
      requestId,
    );
  }
}

const REQUEST_FIELDS: Record<Request["type"], Record<string, Check>> = {
  "submit": { pipeline: isObject },
  "status": { pipelineId: isString },
  "cancel": { pipelineId: isString },
  "get-configuration": {},
  "list-functions": {},
  "wait": { pipelineId: isString },
  "broker-hello": { broker: isObject, functions: isArray },
  "pipeliner-hello": { pipeliner: isObject },
};

const EVENT_FIELDS: Record<RouterEvent["type"], Record<string, Check>> = {
  "broker-status": { load: isObject },
  "broker-functions": { functions: isArray },
  "job-done": { pipelineId: isString, jobId: isString, attempt: isInt, outcome: isOutcome },
  "goodbye": {},
  "host-lost": { host: isString, pid: isInt, error: isErrorData },
  "pipeliner-status": { active: isInt },
  "job-request": { pipelineId: isString, jobId: isString, fn: isString, input: isObject },
  "pipeline-finish": { pipelineId: isString, status: isString, document: isObject },
};

const PEER_FIELDS: Record<PeerEvent["type"], Record<string, Check>> = {
  "job-run": {
    pipelineId: isString,
    jobId: isString,
    fn: isString,
    attempt: isInt,
    input: isObject,
  },
  "job-cancel": { pipelineId: isString, jobId: isString },
  "pipeline-assign": { pipelineId: isString, spec: isObject, jobs: isArray },
  "job-result": { pipelineId: isString, jobId: isString, outcome: isOutcome },
  "pipeline-cancel": { pipelineId: isString },
  "hello-again": {},
  "error": { error: isObject },
};

/**
 * Parses a message sent to the Router: a request or an event.
 *
 * @throws {ProtocolError} with `requestId` set when the sender can be answered.
 */
export function parseToRouter(frames: readonly Uint8Array[]): Request | RouterEvent {
  const message = body(frames);
  if (message.type in REQUEST_FIELDS) {
    const id = message.id;
    if (!isString(id)) throw new ProtocolError(`Request "${message.type}" has no string "id"`);
    require(message, REQUEST_FIELDS[message.type as Request["type"]], id as string);
    return message as unknown as Request;
  }
  if (message.type in EVENT_FIELDS) {
    require(message, EVENT_FIELDS[message.type as RouterEvent["type"]]);
    if (message.type === "job-request" && message.plan !== undefined && !isPlan(message.plan)) {
      throw new ProtocolError('Message "job-request" has an invalid "plan"');
    }
    if (message.type === "host-lost" && message.running !== undefined) {
      if (!isRunningJob(message.running)) {
        throw new ProtocolError('Message "host-lost" has an invalid "running"');
      }
    }
    if (message.type === "job-done" && message.followed !== undefined) {
      if (!isFollowed(message.followed)) {
        throw new ProtocolError('Message "job-done" has an invalid "followed"');
      }
    }
    return message as unknown as RouterEvent;
  }
  const id = typeof message.id === "string" ? message.id : undefined;
  throw new ProtocolError(`Unknown message type "${message.type.slice(0, 60)}"`, id);
}

/**
 * Parses a message from the Router: a reply or an event.
 *
 * @throws {ProtocolError} when it is not one.
 */
export function parseFromRouter(frames: readonly Uint8Array[]): Reply | PeerEvent {
  const message = body(frames);
  if (message.type === "reply") {
    require(message, { id: isString });
    if (message.ok === true) return message as unknown as Reply;
    require(message, { error: isObject });
    return message as unknown as Reply;
  }
  if (message.type in PEER_FIELDS) {
    require(message, PEER_FIELDS[message.type as PeerEvent["type"]]);
    if (message.type === "job-run" && message.then !== undefined && !isFollower(message.then)) {
      throw new ProtocolError('Message "job-run" has an invalid "then"');
    }
    if (message.type === "job-cancel" && message.attempt !== undefined && !isInt(message.attempt)) {
      throw new ProtocolError('Message "job-cancel" has an invalid "attempt"');
    }
    return message as unknown as PeerEvent;
  }
  throw new ProtocolError(`Unknown message type "${message.type.slice(0, 60)}"`);
}

/** Encodes a broadcast: `[topic, JSON]`. */
export function encodeBroadcast(message: PipelineEndedBroadcast): Uint8Array[] {
  return [encoder.encode(endedTopic(message.pipelineId)), encoder.encode(JSON.stringify(message))];
}
