/**
 * The messages between pipelinin's daemons and clients: requests (they carry an
 * `id` and get one {@linkcode Reply}) and events (no `id`, no reply), as unions
 * tagged by `type`. `docs/protocol.md` documents the same for other languages.
 *
 * @module
 */
import type { ErrorData, JsonObject, PipelineSpec, PipelineStatus } from "../types.ts";
import type { BrokerLoad, FunctionInfo, JobOutcome, JobRecord, ReplyError } from "./records.ts";
import type {
  CreateScheduleRequest,
  DeleteScheduleRequest,
  GetScheduleRequest,
  ListSchedulesRequest,
  PutScheduleRequest,
} from "./schedule_messages.ts";
import type { FunctionsManifestEvent } from "./manifest_messages.ts";

export type * from "./schedule_messages.ts";
export type * from "./manifest_messages.ts";

/** The first frame of every message; changes only with an incompatible protocol. */
export const PROTOCOL = "pipelinin/1";

/** Plans and followers nest at most this deep; one nested deeper is malformed. */
export const MAX_PLAN_DEPTH = 16;

/**
 * Caps on values that the parsers keep, so that no single field of a message can
 * make a daemon hold more than its share. A message over one is malformed, except
 * error texts, which are cut (with a marker saying how much) so the error still
 * reaches its pipeline. They sit far above what pipelinin sends itself; the whole
 * message is capped by the sockets (`maxMessageSize`, 64 MiB by default).
 */
export const PROTOCOL_LIMITS = {
  /** Characters of an id or name: request, pipeline, job, function, broker, host, key. */
  maxIdLength: 256,
  /** Functions in one `broker-hello` or `broker-functions`. */
  maxFunctions: 10_000,
  /** Jobs in one plan, counted over all its levels; job records in one message. */
  maxJobs: 100_000,
  /** Lines of a validation error's `problems`; more are summed up in a last line. */
  maxProblems: 200,
  /** Characters of an error's `message` (and of each problem); the rest is cut. */
  maxErrorMessage: 16 * 1024,
  /** Characters of an error's `stack`; the rest is cut. */
  maxErrorStack: 32 * 1024,
  /** Files in one `functions-manifest` (the Router's functions folder). */
  maxShippedFiles: 1_000,
  /** Bytes of one shipped file; a larger one is not shipped. */
  maxShippedFileBytes: 1024 * 1024,
  /** Bytes of all the files of one manifest together. */
  maxShippedBytes: 16 * 1024 * 1024,
  /** Characters of a shipped file's path. */
  maxPathLength: 1024,
  /** Records in one `job-logs` event. */
  maxLogRecords: 1_000,
  /** Characters of a log record's message; the rest is cut. */
  maxLogMessage: 32 * 1024,
} as const;

// ---- Requests (carry `id`, get one `reply`) --------------------------------------------

/** Submit a pipeline; replies `{ pipelineId, status }`. */
export interface SubmitRequest {
  type: "submit";
  id: string;
  /**
   * The pipeline. The parser checks only that it is a JSON object: the Router checks
   * the rest with `validatePipeline`, which reports every problem at once (as a
   * `PipelineValidationError`, not a protocol error).
   */
  pipeline: PipelineSpec | JsonObject;
  /** A repeat with the same key returns the first pipeline's id. */
  idempotencyKey?: string;
  /**
   * Also wait up to this long (ms, at most 60,000) for the pipeline to end: the reply
   * is then its record, as a {@linkcode WaitRequest} answers, instead of `{pipelineId, status}`.
   */
  waitMs?: number;
  /** A W3C `traceparent`: with tracing on, the pipeline's trace is its child. */
  traceparent?: string;
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
/**
 * Delivers a signal to the jobs of a pipeline that wait for it (`wait: name`): `payload`
 * becomes their output. Replies `{ pipelineId, signal, jobIds }`; refused with
 * `PipelineNotFoundError`, `JobNotWaitingError` (no job waits for it now) or
 * `InvalidSignalError` (the payload is too big or too deep).
 */
export interface SignalRequest {
  type: "signal";
  id: string;
  pipelineId: string;
  /** The signal's name: 1 to 100 letters, digits or `_.:-`. */
  name: string;
  payload: JsonObject;
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

/**
 * A broker fetches one file of the Router's functions folder by its hash (see
 * {@linkcode FunctionsManifestEvent}); replies {@linkcode FileContent}. Only a joined
 * broker may ask.
 */
export interface FetchFileRequest {
  type: "fetch-file";
  id: string;
  /** The file's SHA-256, 64 lowercase hex digits. */
  sha256: string;
}

/**
 * The reply to a {@linkcode FetchFileRequest}: the file's bytes, base64. The broker
 * checks them against the hash it asked for before it writes them anywhere.
 */
export interface FileContent {
  sha256: string;
  /** The bytes, base64 (at most `maxShippedFileBytes` once decoded). */
  data: string;
}

/** Any request. */
export type Request =
  | SubmitRequest
  | StatusRequest
  | WaitRequest
  | CancelRequest
  | SignalRequest
  | ConfigurationRequest
  | ListFunctionsRequest
  | BrokerHelloRequest
  | PipelinerHelloRequest
  | FetchFileRequest
  | CreateScheduleRequest
  | PutScheduleRequest
  | GetScheduleRequest
  | ListSchedulesRequest
  | DeleteScheduleRequest;

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
/** Severity of a job's log record. */
export type JobLogLevel = "debug" | "info" | "warn" | "error";

/** One line a job attempt logged (`ctx.log` or `console`). */
export interface JobLogRecord {
  /** Epoch ms. */
  time: number;
  level: JobLogLevel;
  message: string;
  fields?: JsonObject;
}

/**
 * Lines an attempt logged, from the broker running it, batched (sent before that
 * attempt's `job-done`). The Router keeps them with the attempt, up to its cap.
 */
export interface JobLogsEvent {
  type: "job-logs";
  pipelineId: string;
  jobId: string;
  attempt: number;
  records: JobLogRecord[];
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
  /** Empty for a `wait` job, which runs no function. */
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
  | JobLogsEvent
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
  /**
   * Run it with no other job beside it in its worker host (its chain too): its last
   * attempt died with a host it shared, so the next crash, if any, is its own.
   */
  alone?: boolean;
  /** With tracing on: the W3C `traceparent` of the Router's span for this attempt. */
  traceparent?: string;
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
  /** With tracing on: the W3C `traceparent` of the pipeline's span. */
  traceparent?: string;
}
/** A job's final outcome, after retries (to a pipeliner). */
export interface JobResultEvent {
  type: "job-result";
  pipelineId: string;
  jobId: string;
  outcome: JobOutcome;
  /** The job's `when` did not hold: it is done with no output (`outcome` is an empty success). */
  skipped?: boolean;
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
  | FunctionsManifestEvent
  | ProtocolErrorEvent;

/** What the Router publishes on its broadcast socket, topic frame first. */
export interface PipelineEndedBroadcast {
  type: "pipeline-ended";
  pipelineId: string;
  status: PipelineStatus;
}
