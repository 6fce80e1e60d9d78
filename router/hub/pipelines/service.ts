/**
 * The life of pipelines on the Router: accept, hand to a pipeliner (or drive it
 * itself when it is one job or a chain), read, cancel, fail at its deadline, finish,
 * and resume after a restart. Jobs, plans and peer loss have files of their own; this
 * class is the one face the hub and the fronts see. All state changes go through
 * the store; messages go out through an outbox, which sends replies only after the
 * store has committed.
 *
 * @module
 */
import { type Dag, isChain, mergeDocument, validatePipeline } from "../../../core/dag/mod.ts";
import { errorData, ErrorName } from "../../../core/errors.ts";
import { uuidv7 } from "../../../core/ids.ts";
import type { Logger } from "../../../core/log.ts";
import type {
  HostLostEvent,
  JobDoneEvent,
  JobRequestEvent,
  PipelineFinishEvent,
  PipelineRecord,
  ScheduleTick,
} from "../../../core/protocol/mod.ts";
import type { PipelineSpec } from "../../../core/types.ts";
import type { BrokerEntry, PipelinerEntry, Registry } from "../registry.ts";
import { KnownFunctions } from "../known_functions.ts";
import { Scheduler } from "../scheduler.ts";
import type { PipelineStore } from "../store.ts";
import {
  type Active,
  assign,
  end,
  jobFailure,
  type Outbox,
  type Pipelines,
  type ServiceOptions,
  skipPending,
} from "./context.ts";
import type { AttemptOutcome } from "./attempts.ts";
import { directOf, oneJobDag, startDirect } from "./direct.ts";
import { dispatch, jobDone, jobRequest, lateResult } from "./jobs.ts";
import { jobOptions } from "./decide.ts";
import type { ItemPage } from "./map.ts";
import { mapItemPage, oneMapItem } from "./map_reads.ts";
import { stopPipeline, watchDeadline } from "./stop.ts";
import { armWait, deliverSignal, type SignalResult } from "./signals.ts";
import type { MapItemRecord } from "../../../core/protocol/mod.ts";
import type { JsonObject } from "../../../core/types.ts";
import { brokerGone, hostLost, pipelinerGone, pipelinerJoined } from "./peer_loss.ts";
import { noBrokerError, ServiceError } from "./service_error.ts";
import { holdRunning, restoreLimits, withRunAt } from "./flow.ts";
import { PipelineTrace } from "./trace.ts";
import type { Tracing } from "../../../core/tracing/mod.ts";

export type { Outbox, ServiceOptions } from "./context.ts";
export { ServiceError } from "./service_error.ts";

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** What a submit carries beside its spec. */
export interface SubmitOptions {
  /** A repeated key answers with the first pipeline submitted under it. */
  idempotencyKey?: string;
  /** The ended pipeline this one runs again. */
  retryOf?: string;
  /** The W3C trace context the pipeline's spans join. */
  traceparent?: string;
  /** The schedule tick that starts it. */
  schedule?: ScheduleTick;
}

/** Pipelines and jobs, as the Router drives them. */
export class PipelineService {
  readonly scheduler: Scheduler;
  /** The functions brokers served; peers report what each broker serves. */
  readonly known: KnownFunctions;
  readonly #ctx: Pipelines;

  constructor(deps: {
    store: PipelineStore;
    registry: Registry;
    outbox: Outbox;
    log: Logger;
    options: ServiceOptions;
    later: (ms: number, task: () => void) => void;
    tracing?: Tracing;
  }) {
    this.known = new KnownFunctions(deps.store);
    this.scheduler = new Scheduler(deps.registry, {
      agingMs: deps.options.priorityAgingMs,
      later: deps.later,
      noteStart: (fn, at) => deps.store.starts.note(fn, at),
    });
    const trace = deps.tracing ? new PipelineTrace(deps.tracing) : undefined;
    this.scheduler.queuedAt = trace?.queuedAt;
    this.#ctx = {
      ...deps,
      ...(trace ? { trace } : {}),
      scheduler: this.scheduler,
      known: this.known,
      active: new Map(),
      backingOff: new Set(),
    };
  }

  /** Called with each finished attempt's function, status and duration (for metrics). */
  set onJobFinished(listener: (fn: string, status: string, durationMs: number) => void) {
    this.#ctx.onJobFinished = listener;
  }

  /** Called for each result ignored as late or duplicate (for metrics). */
  set onLateResult(listener: () => void) {
    this.#ctx.onLateResult = listener;
  }

  /** Called with how each attempt ended (for metrics). */
  set onAttemptEnded(listener: (fn: string, outcome: AttemptOutcome) => void) {
    this.#ctx.onAttemptEnded = listener;
  }

  /** The pipeline size limits submits are validated with. */
  get limits(): ServiceOptions["limits"] {
    return this.#ctx.options.limits;
  }

  /** Pipelines not yet ended. */
  get activeCount(): number {
    return this.#ctx.active.size;
  }

  /** Loads pipelines that had not ended when the Router stopped. */
  recover(): number {
    const ctx = this.#ctx;
    restoreLimits(ctx);
    for (const record of ctx.store.active()) {
      withRunAt(record);
      const jobs = new Map(record.jobs.map((job) => [job.jobId, job]));
      for (const job of jobs.values()) {
        // Attempts in flight at the crash are run again (at-least-once).
        if (job.status !== "running") continue;
        job.status = "pending";
        holdRunning(ctx, record, job);
      }
      // A one-job pipeline is driven again by the Router (unless its job has options, which
      // a pipeliner asks for); a chain, by a pipeliner replaying it.
      const [only] = record.jobs;
      const lone = only && jobs.size === 1 && !jobOptions(record.spec, only.jobId);
      // Every record of one shape (`direct` set or undefined, never absent), so that
      // the code reading them stays monomorphic.
      const active: Active = {
        record,
        jobs,
        pipeliner: undefined,
        direct: lone ? directOf(oneJobDag(only), record.spec.data ?? {}) : undefined,
        maps: undefined,
      };
      ctx.active.set(record.id, active);
      watchDeadline(this.#ctx, active);
      // A wait survives the restart: its timeout is armed again from the record.
      for (const job of jobs.values()) if (job.status === "waiting") armWait(ctx, active, job);
      if (active.direct) startDirect(ctx, active);
    }
    return ctx.active.size;
  }

  /**
   * Validates, stores and queues a pipeline. One a schedule starts names its tick, and
   * its functions are not looked up: they were when the schedule was stored, and brokers
   * may still be joining (a tick owed after a restart); its jobs wait for one.
   *
   * @throws {PipelineValidationError} listing every problem.
   * @throws {ServiceError} `TooManyPipelinesError` when too many have not ended, and
   * `NoBrokerError` when a function's brokers are away for now (both retryable).
   */
  submit(spec: unknown, options: SubmitOptions = {}): { pipelineId: string; status: string } {
    const { idempotencyKey, retryOf, traceparent, schedule } = options;
    const ctx = this.#ctx;
    const since = ctx.trace ? Date.now() : 0;
    // A repeated key answers with the first pipeline, whatever the limits and functions
    // say now. It is looked up only when this submit would fail or its insert clashed:
    // a first submit, the usual case, costs no lookup.
    const maxActive = ctx.options.maxActive ?? 100_000;
    let dag: Dag;
    try {
      if (ctx.active.size >= maxActive) {
        throw new ServiceError(
          ErrorName.TooManyPipelines,
          `${ctx.active.size} pipelines are running or queued, the limit is ${maxActive}: retry later`,
        );
      }
      const runnable = ctx.registry.runnable();
      dag = validatePipeline(spec, {
        knownFunctions: schedule
          ? undefined
          : { has: (fn) => runnable.has(fn) || ctx.known.expected(fn) },
        limits: ctx.options.limits,
      });
      // A `wait` job runs no function (its `fn` is empty): no broker need serve it.
      const away = schedule
        ? undefined
        : dag.jobs.find((job) => job.fn !== "" && !runnable.has(job.fn));
      if (away) throw noBrokerError(ctx.known, away.fn);
    } catch (error) {
      const existing = idempotencyKey && this.#existing(idempotencyKey);
      if (existing) return existing;
      throw error;
    }
    const valid = spec as PipelineSpec;
    const record: PipelineRecord = {
      id: uuidv7(), // Time-ordered: cheap to index.
      status: "queued",
      spec: valid,
      document: mergeDocument({}, valid.data ?? {}),
      jobs: dag.jobs.map((job) => ({ jobId: job.id, fn: job.fn, status: "pending", attempts: 0 })),
      createdAt: Date.now(),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      ...(retryOf === undefined ? {} : { retryOf }),
      ...(schedule ? { schedule } : {}),
    };
    withRunAt(record);
    if (!ctx.store.insertPipeline(record, idempotencyKey)) {
      return this.#existing(idempotencyKey!)!;
    }
    const active: Active = {
      record,
      jobs: new Map(record.jobs.map((j) => [j.jobId, j])),
      pipeliner: undefined,
      direct: isChain(dag) ? directOf(dag, valid.data ?? {}) : undefined,
      maps: undefined,
    };
    ctx.active.set(record.id, active);
    ctx.trace?.submitted(record, since, traceparent);
    if (active.direct) startDirect(ctx, active);
    else assign(ctx, active);
    watchDeadline(this.#ctx, active);
    return { pipelineId: record.id, status: record.status };
  }

  /**
   * Runs an ended pipeline that did not succeed again: a new pipeline from the same
   * spec (validated again: its functions must still be served), linked to the old one
   * both ways (`retryOf`, `retriedBy`). A repeat with the same key returns the first
   * retry.
   *
   * @throws {ServiceError} `PipelineNotFoundError`; `PipelineNotRetryableError` while
   *   it has not ended or when it succeeded.
   * @throws {PipelineValidationError} when its spec is no longer valid.
   */
  retry(pipelineId: string, idempotencyKey?: string): { pipelineId: string; status: string } {
    const old = this.get(pipelineId);
    if (old.status !== "failed" && old.status !== "cancelled") {
      throw new ServiceError(
        ErrorName.PipelineNotRetryable,
        `Pipeline "${pipelineId}" is ${old.status}: only a failed or cancelled one is retried`,
      );
    }
    const retry = this.submit(old.spec, { idempotencyKey, retryOf: pipelineId });
    if (!(old.retriedBy ?? []).includes(retry.pipelineId)) {
      this.#ctx.store.linkRetry(pipelineId, retry.pipelineId);
    }
    return retry;
  }

  /** The pipeline submitted under `idempotencyKey`, if any, and its status. */
  #existing(idempotencyKey: string): { pipelineId: string; status: string } | undefined {
    const ctx = this.#ctx;
    const existing = ctx.store.idForKey(idempotencyKey);
    if (!existing) return undefined;
    const status = ctx.active.get(existing)?.record.status ?? ctx.store.get(existing)?.status;
    return { pipelineId: existing, status: status ?? "queued" };
  }

  /** Whether a pipeline is in memory: submitted and not yet ended. */
  isActive(pipelineId: string): boolean {
    return this.#ctx.active.has(pipelineId);
  }

  /**
   * A pipeline with its jobs.
   *
   * @throws {ServiceError} `PipelineNotFoundError`.
   */

  get(pipelineId: string): PipelineRecord {
    const active = this.#ctx.active.get(pipelineId);
    if (active) return { ...active.record, jobs: [...active.jobs.values()] };
    const stored = this.#ctx.store.get(pipelineId);
    if (!stored) {
      throw new ServiceError(ErrorName.PipelineNotFound, `Pipeline "${pipelineId}" not found`);
    }
    return withRunAt(stored);
  }

  /**
   * Cancels a pipeline: running jobs are stopped, the rest marked cancelled.
   *
   * @throws {ServiceError} `PipelineNotFoundError`, or `PipelineEndedError` when it already ended.
   */
  cancel(pipelineId: string): { pipelineId: string; status: string } {
    const active = this.#ctx.active.get(pipelineId);
    if (!active) {
      const stored = this.#ctx.store.get(pipelineId);
      if (!stored) {
        throw new ServiceError(ErrorName.PipelineNotFound, `Pipeline "${pipelineId}" not found`);
      }
      throw new ServiceError(
        ErrorName.PipelineEnded,
        `Pipeline "${pipelineId}" already ended with status "${stored.status}"`,
      );
    }
    stopPipeline(this.#ctx, active, "cancelled");
    return { pipelineId, status: "cancelled" };
  }

  /**
   * Delivers a signal to the jobs of a pipeline waiting for it.
   *
   * @throws {ServiceError} `PipelineNotFoundError`, `JobNotWaitingError`, `InvalidSignalError`.
   */
  signal(
    pipelineId: string,
    name: string,
    payload: JsonObject,
    encodedBytes?: number,
  ): SignalResult {
    return deliverSignal(this.#ctx, pipelineId, name, payload, encodedBytes);
  }

  /**
   * A page of a map job's items, from `offset`.
   *
   * @throws {ServiceError} `PipelineNotFoundError` for an unknown pipeline, or job that is no map.
   */
  mapItems(pipelineId: string, jobId: string, offset: number, limit: number): ItemPage {
    return mapItemPage(this.#ctx, this.get(pipelineId), jobId, offset, limit);
  }

  /**
   * One item of a map job.
   *
   * @throws {ServiceError} `PipelineNotFoundError` for an unknown pipeline, job or item.
   */
  mapItem(pipelineId: string, jobId: string, index: number): MapItemRecord {
    return oneMapItem(this.#ctx, this.get(pipelineId), jobId, index);
  }

  /** A pipeliner reports the end of a pipeline. */
  pipelineFinish(from: PipelinerEntry, event: PipelineFinishEvent): void {
    const ctx = this.#ctx;
    const active = ctx.active.get(event.pipelineId);
    if (!active || active.pipeliner !== from.id) return;
    const status = event.status === "succeeded" ? "succeeded" : "failed";
    skipPending(ctx, active);
    if (status === "failed") {
      const failed = [...active.jobs.values()].find((job) => job.status === "failed");
      active.record.error = failed?.error
        ? jobFailure(failed.jobId, failed.error)
        : errorData(ErrorName.PipelineFailed, "A job failed", false);
    }
    end(ctx, active, status, event.document);
  }

  /** A pipeliner joined: give it pipelines nobody drives. */
  pipelinerJoined(entry: PipelinerEntry): void {
    pipelinerJoined(this.#ctx, entry);
  }

  /** A pipeliner left or died: its pipelines go to others (or wait for one). */
  pipelinerGone(entry: PipelinerEntry): void {
    pipelinerGone(this.#ctx, entry);
  }

  /** A broker left or died: its running attempts go back to the queue. */
  brokerGone(entry: BrokerEntry): void {
    brokerGone(this.#ctx, entry);
  }

  /** A broker's worker host is gone; `crash` when it died running a job. */
  hostLost(entry: BrokerEntry, crash?: Pick<HostLostEvent, "running" | "error">): void {
    hostLost(this.#ctx, entry, crash);
  }

  /** A pipeliner asks for a job. */
  jobRequest(from: PipelinerEntry, event: JobRequestEvent): void {
    jobRequest(this.#ctx, from, event);
  }

  /** A broker finished an attempt. */
  jobDone(from: BrokerEntry, event: JobDoneEvent): void {
    jobDone(this.#ctx, from, event);
  }

  /** A result from a broker the Router does not know (any more): dropped. */
  unknownResult(from: string, event: JobDoneEvent): void {
    lateResult(this.#ctx, from, event);
  }

  /** Sends ready attempts to brokers with free slots. */
  dispatch(): void {
    dispatch(this.#ctx);
  }

  /** Deletes ended pipelines older than `maxAgeMs`; returns how many. */
  prune(maxAgeMs: number): number {
    return this.#ctx.store.prune(Date.now() - maxAgeMs);
  }

  /** Whether a status is final. */
  static ended(status: string): boolean {
    return ENDED.has(status);
  }
}
