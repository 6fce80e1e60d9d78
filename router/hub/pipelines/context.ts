/**
 * What every part of the pipeline service shares: the pipelines not yet ended, the
 * store they are written to, the peers, the queue of attempts, and where messages
 * go. The parts (submit and end, job runs, plans, peer loss) are functions over it,
 * so each file holds one job and none reaches into another's private state.
 *
 * @module
 */
import type { PipelineLimits } from "../../../core/dag/mod.ts";
import type { Logger } from "../../../core/log.ts";
import type { JobRecord, PeerEvent, PipelineRecord } from "../../../core/protocol/mod.ts";
import type { ErrorData, JsonObject } from "../../../core/types.ts";
import type { KnownFunctions } from "../known_functions.ts";
import type { BrokerEntry, PipelinerEntry, Registry } from "../registry.ts";
import type { Scheduler } from "../scheduler.ts";
import type { PipelineStore } from "../store.ts";
import type { AttemptOutcome } from "./attempts.ts";
import type { Direct } from "./direct.ts";
import type { MapRun } from "./map.ts";
import type { PipelineTrace } from "./trace.ts";

/** Where the service's messages go (sent after the store commits). */
export interface Outbox {
  /** An event to one peer. */
  toPeer(address: Uint8Array, event: PeerEvent): void;
  /** A pipeline ended: tell subscribers and answer those waiting for it. */
  pipelineEnded(record: PipelineRecord): void;
}

/** Tunables of the service. */
export interface ServiceOptions {
  /** First retry delay, ms; doubles each attempt, with ±20 % jitter. */
  retryBaseMs: number;
  /** Longest retry delay, ms. */
  retryMaxMs: number;
  /** Pipeline size limits. */
  limits?: Partial<PipelineLimits>;
  /** Pipelines not yet ended, at most; more are refused with `TooManyPipelinesError`. */
  maxActive?: number;
  /** Crashes (host died, broker lost) after which a job fails as poison. Default 3. */
  maxCrashes?: number;
  /** A queued job gains a priority level per this many ms waited. Default 10 s. */
  priorityAgingMs?: number;
}

/** A pipeline not yet ended, with its jobs by id. */
export interface Active {
  record: PipelineRecord;
  jobs: Map<string, JobRecord>;
  /** The pipeliner driving it, if one does. */
  pipeliner?: string;
  /**
   * Set for one job or a chain: nothing to decide, so the Router drives it itself,
   * never a pipeliner. A chain is direct only from its submit: after a restart a
   * pipeliner replays it from the store.
   */
  direct?: Direct;
  /** Its `map` jobs under way, by job id; undefined until one starts (most pipelines). */
  maps?: Map<string, MapRun>;
}

/** A job a broker started by itself after another (`job-done.followed`). */
export interface Followed {
  jobId: string;
  attempt: number;
  broker: BrokerEntry;
}

/** The service's shared state. */
export interface Pipelines {
  readonly store: PipelineStore;
  readonly registry: Registry;
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly options: ServiceOptions;
  readonly scheduler: Scheduler;
  /** The functions brokers served, across restarts: tells "away" from "unknown". */
  readonly known: KnownFunctions;
  /** Runs `task` later as a batch of its own. */
  readonly later: (ms: number, task: () => void) => void;
  readonly active: Map<string, Active>;
  /** Jobs waiting out a retry's back-off with a timer to queue them (execution keys). */
  readonly backingOff: Set<string>;
  /** Durations of finished attempts, ms, for the metrics histogram. */
  onJobFinished?: (fn: string, status: string, durationMs: number) => void;
  /** Told of each result ignored as late or duplicate, for metrics. */
  onLateResult?: () => void;
  /** Told how each attempt ended (reported, or lost with its broker), for metrics. */
  onAttemptEnded?: (fn: string, outcome: AttemptOutcome) => void;
  /** The pipelines' spans, with tracing on. */
  readonly trace?: PipelineTrace;
}

/** A pipeline's error for a job that failed for good. */
export function jobFailure(jobId: string, error: ErrorData): ErrorData {
  return { ...error, message: `Job "${jobId}" failed: ${error.message}` };
}

/** A pipeline is running from its first job request (or, direct, its job's dispatch). */
export function started(ctx: Pipelines, active: Active): void {
  if (active.record.status !== "queued") return;
  // A pipeliner asks for its first jobs at once; it is running once they may start.
  if (active.record.runAt !== undefined && active.record.runAt > Date.now()) return;
  active.record.status = "running";
  active.record.startedAt = Date.now();
  ctx.store.savePipeline(active.record);
}

/** Marks the jobs that never started as skipped: the pipeline ends without them. */
export function skipPending(ctx: Pipelines, active: Active): void {
  for (const job of active.jobs.values()) {
    if (job.status === "pending") {
      job.status = "skipped";
      ctx.store.saveJob(active.record, job);
    }
  }
}

/** Ends a pipeline: stores its end, lets go of it, and tells whoever waits. */
export function end(
  ctx: Pipelines,
  active: Active,
  status: "succeeded" | "failed" | "cancelled",
  document: JsonObject,
): void {
  const record = active.record;
  record.status = status;
  record.document = document;
  record.finishedAt = Date.now();
  record.startedAt ??= record.finishedAt;
  record.durationMs = record.finishedAt - record.startedAt;
  ctx.store.savePipeline(record);
  ctx.active.delete(record.id);
  if (active.pipeliner) {
    ctx.registry.pipeliners.get(active.pipeliner)?.pipelines.delete(record.id);
  }
  ctx.trace?.ended(record);
  ctx.outbox.pipelineEnded({ ...record, jobs: [...active.jobs.values()] });
}

/** Hands a pipeline to a pipeliner (`to`, or the least busy); one that is direct has none. */
export function assign(ctx: Pipelines, active: Active, to?: PipelinerEntry): void {
  if (active.direct) return;
  const pipeliner = to ?? ctx.registry.pickPipeliner();
  if (!pipeliner) return; // Stays queued until a pipeliner joins.
  active.pipeliner = pipeliner.id;
  pipeliner.pipelines.add(active.record.id);
  const traceparent = ctx.trace?.parentOf(active.record.id);
  ctx.outbox.toPeer(pipeliner.address, {
    type: "pipeline-assign",
    pipelineId: active.record.id,
    spec: active.record.spec,
    jobs: [],
    ...(traceparent ? { traceparent } : {}),
  });
}
