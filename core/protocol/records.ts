/**
 * The values the protocol's messages carry: a broker's functions and load, a job's
 * outcome, the Router's records of pipelines and jobs, the cluster configuration.
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
  ScheduleOverlap,
} from "../types.ts";

/** What a broker says about one function module. */
export interface FunctionInfo {
  /** The function's name (the module's base name). */
  name: string;
  /** Its `config` export, validated. */
  config: FunctionConfig;
  /** Set when the module failed to load; the function cannot run. */
  error?: ErrorData;
  /** Where its module came from: the Router's folder (shipped) or the broker's own; absent: its own. */
  source?: "router" | "local";
  /**
   * Set when both the Router and the broker's own folder have a function of this name
   * with different code: says which copy the broker serves (the Router's).
   */
  conflict?: string;
}

/** A function as known to the cluster. */
export interface FunctionView {
  name: string;
  config: FunctionConfig;
  /** Brokers that serve it. */
  brokers: string[];
  /** Load errors reported by brokers where it failed to load. */
  errors: Array<{ broker: string; message: string }>;
  /** Brokers whose own folder has other code under this name than the Router ships. */
  conflicts: Array<{ broker: string; message: string }>;
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
  /** The host name of the last attempt's broker. */
  host?: string;
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
  /** A `map` job's items by state (each item is read on its own; its output is the document's). */
  map?: MapSummary;
  /** A `wait` job's signal name. */
  signal?: string;
  /** Epoch ms at which a waiting job fails with `SignalTimeoutError`, when it has a `timeoutMs`. */
  waitUntil?: number;
}

/** How many items of a `map` job are in each state. */
export interface MapSummary {
  items: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** The state of a map item. */
export type MapItemStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

/** One item of a `map` job: an attempted run of its function on one element of the list. */
export interface MapItemRecord {
  /** Its place in the list, from 0. */
  index: number;
  status: MapItemStatus;
  /** Attempts started so far. */
  attempts: number;
  /** The highest attempt number given out (see {@linkcode JobRecord.lastAttempt}). */
  lastAttempt?: number;
  /** The broker of the last attempt. */
  broker?: string;
  output?: JsonObject;
  /** The last attempt's error. */
  error?: ErrorData;
  /** Each failed attempt's error, oldest first. */
  attemptErrors?: ErrorData[];
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  /** Epoch ms before which its retry does not start. */
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
  /** Epoch ms before which its first jobs do not start (from its `delayMs` or `runAt`). */
  runAt?: number;
  /** Epoch ms it started running. */
  startedAt?: number;
  /** Epoch ms it ended. */
  finishedAt?: number;
  /** Wall time from start to end, ms. */
  durationMs?: number;
  /** Why it failed, when it did. */
  error?: ErrorData;
  /** The key it was submitted under, if any. */
  idempotencyKey?: string;
  /** The pipeline this one retries (`POST /pipelines/:id/retry`). */
  retryOf?: string;
  /** Pipelines that retry this one, oldest first. */
  retriedBy?: string[];
  /** Set when a schedule started it: the schedule's id and the tick (epoch ms) it is for. */
  schedule?: ScheduleTick;
}

/** The tick of a schedule that started a pipeline; one tick starts at most one. */
export interface ScheduleTick {
  /** The schedule's id. */
  id: string;
  /** The tick, epoch ms. */
  at: number;
}

/** A schedule as the Router keeps it: its spec, in full, with its next and last ticks. */
export interface ScheduleRecord {
  id: string;
  cron: string;
  timezone: string;
  overlap: ScheduleOverlap;
  pipeline: PipelineSpec;
  /** Epoch ms it was created. */
  createdAt: number;
  /** Epoch ms it was last replaced (its creation, if never). */
  updatedAt: number;
  /** Its next tick, epoch ms. */
  nextRunAt?: number;
  /** What its last tick did, once one came. */
  lastTick?: ScheduleOutcome;
}

/** What one tick of a schedule did. */
export interface ScheduleOutcome {
  /** The tick, epoch ms. */
  at: number;
  /**
   * `started`: it started `pipelineId`; `skipped`: the pipeline before was still running
   * (`overlap: "skip"`); `failed`: the Router refused the pipeline (`error` says why).
   */
  outcome: "started" | "skipped" | "failed";
  pipelineId?: string;
  error?: string;
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
