/**
 * The life of pipelines and jobs on the Router: accept, hand to a pipeliner, queue
 * ready jobs for brokers, record outcomes once, retry with back-off, finish, cancel,
 * and resume after a restart. A pipeline of one job, or a chain, has no order to
 * decide: the Router runs it and ends it itself, without a pipeliner. All state changes go
 * through the store; messages go out through an outbox, which sends replies only
 * after the store has committed.
 *
 * @module
 */
import {
  type Dag,
  isChain,
  mergeDocument,
  planAfter,
  validatePipeline,
} from "../../../core/dag.ts";
import { ErrorName } from "../../../core/errors.ts";
import { uuidv7 } from "../../../core/ids.ts";
import type { PipelineLimits } from "../../../core/dag.ts";
import type { Logger } from "../../../core/log.ts";
import type {
  HostLostEvent,
  JobDoneEvent,
  JobFollower,
  JobOutcome,
  JobPlan,
  JobRecord,
  JobRequestEvent,
  PeerEvent,
  PipelineFinishEvent,
  PipelineRecord,
} from "../../../core/protocol.ts";
import { MAX_PLAN_DEPTH } from "../../../core/protocol.ts";
import type { ErrorData, JsonObject, PipelineSpec } from "../../../core/types.ts";
import type { BrokerEntry, PipelinerEntry, Registry } from "../registry.ts";
import { type Attempt, executionKey, type RunningAttempt, Scheduler } from "../scheduler.ts";
import type { PipelineStore } from "../store.ts";

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
}

/**
 * Error names that mean the attempt's process died, not that the function threw.
 * A lost broker is not one: a job runs in a host process and cannot take its broker
 * down, and a broker holds prefetched jobs that never began.
 */
const CRASHES = new Set(["OutOfMemoryError", "WorkerCrashedError"]);
/** Lost brokers that weigh as much as one crash toward poison. */
const LOST_PER_CRASH = 5;

/** Errors the service throws for requests; `name` maps to a status code at the HTTP edge. */
export class ServiceError extends Error {
  constructor(
    name:
      | typeof ErrorName.PipelineNotFound
      | typeof ErrorName.PipelineEnded
      | typeof ErrorName.TooManyPipelines,
    message: string,
  ) {
    super(message);
    this.name = name;
    this.retryable = name === ErrorName.TooManyPipelines;
  }

  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
}

/** A job a broker started by itself after another (`job-done.followed`). */
interface Followed {
  jobId: string;
  attempt: number;
  broker: BrokerEntry;
}

interface Active {
  record: PipelineRecord;
  jobs: Map<string, JobRecord>;
  pipeliner?: string;
  /**
   * One job, or a chain: nothing to decide, so the Router runs and ends it itself,
   * never a pipeliner. A chain is direct only from its submit: after a restart a
   * pipeliner replays it from the store.
   */
  direct: boolean;
  /** A direct chain's DAG, for the plan of each of its jobs. */
  chain?: Dag;
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** A pipeline's error for a job that failed for good. */
function jobFailure(jobId: string, error: ErrorData): ErrorData {
  return { ...error, message: `Job "${jobId}" failed: ${error.message}` };
}

/** Pipelines and jobs, as the Router drives them. */
export class PipelineService {
  readonly scheduler: Scheduler;
  readonly #store: PipelineStore;
  readonly #registry: Registry;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  readonly #options: ServiceOptions;
  readonly #later: (ms: number, task: () => void) => void;
  readonly #active = new Map<string, Active>();
  /** Jobs waiting out a retry's back-off with a timer to queue them (execution keys). */
  readonly #backingOff = new Set<string>();
  /** Durations of finished attempts, ms, for the metrics histogram. */
  onJobFinished?: (fn: string, status: string, durationMs: number) => void;

  constructor(deps: {
    store: PipelineStore;
    registry: Registry;
    outbox: Outbox;
    log: Logger;
    options: ServiceOptions;
    later: (ms: number, task: () => void) => void;
  }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#outbox = deps.outbox;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#later = deps.later;
    this.scheduler = new Scheduler(deps.registry);
  }

  /** Pipelines not yet ended. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Loads pipelines that had not ended when the Router stopped. */
  recover(): number {
    for (const record of this.#store.active()) {
      const jobs = new Map(record.jobs.map((job) => [job.jobId, job]));
      for (const job of jobs.values()) {
        // Attempts in flight at the crash are run again (at-least-once).
        if (job.status === "running") job.status = "pending";
      }
      const active = { record, jobs, direct: jobs.size === 1 };
      this.#active.set(record.id, active);
      this.#watchDeadline(active);
      if (active.direct) this.#resumeDirect(active);
    }
    return this.#active.size;
  }

  /**
   * Validates, stores and queues a pipeline.
   *
   * @throws {PipelineValidationError} listing every problem.
   */
  submit(spec: unknown, idempotencyKey?: string): { pipelineId: string; status: string } {
    // A repeated key answers with the first pipeline, whatever the limits and functions
    // say now. It is looked up only when this submit would fail or its insert clashed:
    // a first submit, the usual case, costs no lookup.
    const maxActive = this.#options.maxActive ?? 100_000;
    let dag: Dag;
    try {
      if (this.#active.size >= maxActive) {
        throw new ServiceError(
          "TooManyPipelinesError",
          `${this.#active.size} pipelines are running or queued, the limit is ${maxActive}: retry later`,
        );
      }
      dag = validatePipeline(spec, {
        knownFunctions: this.#registry.runnable(),
        limits: this.#options.limits,
      });
    } catch (error) {
      const existing = idempotencyKey && this.#existing(idempotencyKey);
      if (existing) return existing;
      throw error;
    }
    const valid = spec as PipelineSpec;
    const direct = isChain(dag);
    const record: PipelineRecord = {
      id: uuidv7(), // Time-ordered: cheap to index.
      status: "queued",
      spec: valid,
      document: mergeDocument({}, valid.data ?? {}),
      jobs: dag.jobs.map((job) => ({ jobId: job.id, fn: job.fn, status: "pending", attempts: 0 })),
      createdAt: Date.now(),
    };
    if (!this.#store.insertPipeline(record, idempotencyKey)) {
      return this.#existing(idempotencyKey!)!;
    }
    const active: Active = {
      record,
      jobs: new Map(record.jobs.map((j) => [j.jobId, j])),
      direct,
      ...(direct && dag.jobs.length > 1 ? { chain: dag } : {}),
    };
    this.#active.set(record.id, active);
    if (direct) this.#runDirect(active);
    else this.#assign(active);
    this.#watchDeadline(active);
    return { pipelineId: record.id, status: record.status };
  }

  /** The pipeline submitted under `idempotencyKey`, if any, and its status. */
  #existing(idempotencyKey: string): { pipelineId: string; status: string } | undefined {
    const existing = this.#store.idForKey(idempotencyKey);
    if (!existing) return undefined;
    const status = this.#active.get(existing)?.record.status ?? this.#store.get(existing)?.status;
    return { pipelineId: existing, status: status ?? "queued" };
  }

  /**
   * A pipeline with its jobs.
   *
   * @throws {ServiceError} `PipelineNotFoundError`.
   */
  get(pipelineId: string): PipelineRecord {
    const active = this.#active.get(pipelineId);
    if (active) return { ...active.record, jobs: [...active.jobs.values()] };
    const stored = this.#store.get(pipelineId);
    if (!stored) {
      throw new ServiceError("PipelineNotFoundError", `Pipeline "${pipelineId}" not found`);
    }
    return stored;
  }

  /**
   * Cancels a pipeline: running jobs are stopped, the rest marked cancelled.
   *
   * @throws {ServiceError} `PipelineNotFoundError`, or `PipelineEndedError` when it already ended.
   */
  cancel(pipelineId: string): { pipelineId: string; status: string } {
    const active = this.#active.get(pipelineId);
    if (!active) {
      const stored = this.#store.get(pipelineId);
      if (!stored) {
        throw new ServiceError("PipelineNotFoundError", `Pipeline "${pipelineId}" not found`);
      }
      throw new ServiceError(
        "PipelineEndedError",
        `Pipeline "${pipelineId}" already ended with status "${stored.status}"`,
      );
    }
    this.#stop(active, "cancelled");
    return { pipelineId, status: "cancelled" };
  }

  /**
   * Ends an active pipeline early: waiting jobs are dropped, running ones stopped at
   * their brokers, unfinished ones marked cancelled, its pipeliner told to let go.
   */
  #stop(active: Active, status: "cancelled" | "failed"): void {
    const pipelineId = active.record.id;
    this.scheduler.dropPipeline(pipelineId);
    for (const job of active.jobs.values()) {
      if (job.status === "running") {
        const running = this.scheduler.running.get(executionKey(pipelineId, job.jobId));
        if (running) {
          running.cancelled = true;
          const broker = this.#registry.brokers.get(running.broker);
          if (broker) {
            this.#outbox.toPeer(broker.address, {
              type: "job-cancel",
              pipelineId,
              jobId: job.jobId,
            });
          }
        }
      }
      if (job.status === "pending" || job.status === "running") {
        job.status = "cancelled";
        job.finishedAt = Date.now();
        this.#store.saveJob(active.record, job);
      }
    }
    const pipeliner = active.pipeliner
      ? this.#registry.pipeliners.get(active.pipeliner)
      : undefined;
    if (pipeliner) this.#outbox.toPeer(pipeliner.address, { type: "pipeline-cancel", pipelineId });
    this.#end(active, status, active.record.document);
  }

  /** Fails the pipeline if it is still running at its deadline. */
  #watchDeadline(active: Active): void {
    const deadlineMs = active.record.spec.deadlineMs;
    if (deadlineMs === undefined) return;
    const at = active.record.createdAt + deadlineMs;
    // Holds the id only: a pipeline that ended is not kept in memory until its deadline.
    const id = active.record.id;
    this.#later(Math.max(0, at - Date.now()), () => {
      const current = this.#active.get(id);
      if (!current) return;
      current.record.error = {
        name: "PipelineDeadlineError",
        message: `Pipeline "${id}" did not end within its deadline of ${deadlineMs} ms`,
        retryable: false,
      };
      this.#stop(current, "failed");
    });
  }

  /** A pipeliner joined: give it pipelines nobody drives. */
  pipelinerJoined(entry: PipelinerEntry): void {
    for (const active of this.#active.values()) {
      if (!active.pipeliner || !this.#registry.pipeliners.has(active.pipeliner)) {
        this.#assign(active, entry);
      }
    }
  }

  /** A pipeliner left or died: its pipelines go to others (or wait for one). */
  pipelinerGone(entry: PipelinerEntry): void {
    this.#registry.pipeliners.delete(entry.id);
    for (const id of entry.pipelines) {
      const active = this.#active.get(id);
      if (!active) continue;
      active.pipeliner = undefined;
      this.#assign(active);
    }
  }

  /** A broker left or died: its running attempts go back to the queue. */
  brokerGone(entry: BrokerEntry): void {
    this.#forget(entry, (active, job, running) => {
      const lost = {
        name: "BrokerLostError",
        message: `Broker "${entry.id}" was lost while running job "${job.jobId}"`,
        retryable: true,
      };
      job.error = lost;
      job.attemptErrors = [...(job.attemptErrors ?? []), lost];
      if (this.#poisoned(active, job)) return;
      this.#log.warn("Requeuing job {jobId} of {pipelineId}: broker {broker} is gone", {
        jobId: running.jobId,
        pipelineId: running.pipelineId,
        broker: entry.id,
      });
      job.status = "pending";
      this.#store.saveJob(active.record, job);
      this.scheduler.enqueue({ ...running, attempt: this.#nextAttempt(job) });
    });
  }

  /** Forgets a broker, handing each of its attempts whose job still runs to `requeue`. */
  #forget(
    entry: BrokerEntry,
    requeue: (active: Active, job: JobRecord, running: RunningAttempt) => void,
  ): void {
    this.#registry.brokers.delete(entry.id);
    for (const running of this.scheduler.runningOn(entry.id)) {
      this.scheduler.finish(executionKey(running.pipelineId, running.jobId));
      const active = this.#active.get(running.pipelineId);
      const job = active?.jobs.get(running.jobId);
      if (active && job && !running.cancelled && job.status === "running") {
        requeue(active, job, running);
      }
    }
  }

  /**
   * A broker's worker host is gone. When it died (`crash`), the job it was running
   * failed with the broker's error (a crash: retried until poison). The jobs it still
   * held never began (a host that leaves has reported every job it ran first): they
   * are queued again without counting a run.
   */
  hostLost(entry: BrokerEntry, crash?: Pick<HostLostEvent, "running" | "error">): void {
    if (crash?.running) this.#crashed(entry, crash.running, crash.error);
    this.#forget(entry, (active, job, held) => {
      job.status = "pending";
      job.attempts = Math.max(0, job.attempts - 1); // It never ran.
      // Its number is spent all the same: a late report of it must not pass for the next run.
      job.lastAttempt = Math.max(job.lastAttempt ?? 0, held.attempt);
      this.#store.saveJob(active.record, job);
      this.scheduler.enqueue({ ...held, attempt: this.#nextAttempt(job) });
    });
  }

  /**
   * The job a dead host was running: failed with the host's error, as a report would
   * have. A follower the Router had not taken as running yet (the report that it
   * followed was lost with the host) still has the crash counted, so that a job
   * that keeps killing hosts becomes poison either way.
   */
  #crashed(entry: BrokerEntry, running: NonNullable<HostLostEvent["running"]>, error: ErrorData) {
    const key = executionKey(running.pipelineId, running.jobId);
    const current = this.scheduler.running.get(key);
    if (current?.broker === entry.id && current.attempt === running.attempt) {
      this.#jobDone(entry, {
        type: "job-done",
        pipelineId: running.pipelineId,
        jobId: running.jobId,
        attempt: running.attempt,
        outcome: { ok: false, error, durationMs: 0 },
      });
      return;
    }
    const active = this.#active.get(running.pipelineId);
    const job = active?.jobs.get(running.jobId);
    if (!active || !job || job.status !== "pending" || job.lastAttempt !== running.attempt) return;
    job.attemptErrors = [...(job.attemptErrors ?? []), error];
    if (!this.#poisoned(active, job)) this.#store.saveJob(active.record, job);
  }

  /** Fails a job that crashed its process too often; true when it did. */
  #poisoned(active: Active, job: JobRecord): boolean {
    const errors = job.attemptErrors ?? [];
    const crashes = errors.filter((e) => CRASHES.has(e.name)).length;
    const lost = errors.filter((e) => e.name === "BrokerLostError").length;
    const max = this.#options.maxCrashes ?? 3;
    // A lost broker mostly held the job unstarted (prefetch), so it counts far less.
    if (crashes < max && lost < max * LOST_PER_CRASH) return false;
    const last = job.attemptErrors?.at(-1);
    job.error = {
      name: "PoisonJobError",
      message: `Job "${job.jobId}" ${
        crashes >= max
          ? `crashed its worker process ${crashes} times`
          : `lost its broker ${lost} times`
      }; giving up (last: ${last?.name}: ${last?.message})`,
      retryable: false,
    };
    job.status = "failed";
    job.finishedAt = Date.now();
    this.#store.saveJob(active.record, job);
    this.#cancelFollowers(active);
    this.#result(active, job, this.#recorded(job)!);
    return true;
  }

  /** A pipeliner asks for a job; answered from the record when it already ended. */
  jobRequest(from: PipelinerEntry, event: JobRequestEvent): void {
    const active = this.#active.get(event.pipelineId);
    const job = active?.jobs.get(event.jobId);
    if (!active || !job || active.pipeliner !== from.id) return;
    const recorded = this.#recorded(job);
    if (recorded) {
      this.#result(active, job, recorded);
      // Whoever is told of a success may count on its plan having been followed.
      if (recorded.ok && event.plan) this.#follow(active, event.input, recorded.output, event.plan);
      return;
    }
    if (job.status !== "pending") return;
    this.#started(active);
    this.#enqueue(active, job, event.input, event.plan);
  }

  /**
   * Takes the steps a pipeliner planned for a job's success: starts the planned jobs
   * still pending and ends the pipeline if planned, with the job's input merged with
   * its output as their input and as the document.
   */
  #follow(
    active: Active,
    input: JsonObject,
    output: JsonObject,
    plan: JobPlan,
    followed?: Followed,
  ): boolean {
    if (this.#active.get(active.record.id) !== active) return false;
    // A final failure elsewhere: no new job starts (the pipeliner sees it the same way,
    // since it gets results in this order).
    if ([...active.jobs.values()].some((job) => job.status === "failed")) return false;
    const merged = mergeDocument(mergeDocument({}, input), output);
    let adopted = false;
    for (const step of plan.run ?? []) {
      const job = active.jobs.get(step.jobId);
      if (!job) continue;
      if (job.status === "pending") {
        // A direct chain plans each job afresh: a plan reaches only PLAN_DEPTH jobs ahead.
        const next = active.chain ? planAfter(active.chain, job.jobId) ?? {} : step;
        if (followed?.jobId === step.jobId && this.#adopt(active, job, merged, next, followed)) {
          adopted = true;
        } else this.#enqueue(active, job, merged, next);
        continue;
      }
      // Planned jobs that already ended (a pipeliner replaying after a restart): it will
      // not ask for them, so it is told their outcomes, and what followed them is followed.
      const recorded = this.#recorded(job);
      if (!recorded) continue;
      this.#result(active, job, recorded);
      if (recorded.ok) this.#follow(active, merged, recorded.output, step);
    }
    if (plan.finish) this.#end(active, "succeeded", merged);
    return adopted;
  }

  /**
   * After a final failure no planned job starts: the jobs brokers would start by
   * themselves after this pipeline's running jobs are called off.
   */
  #cancelFollowers(active: Active): void {
    const pipelineId = active.record.id;
    for (const job of active.jobs.values()) {
      if (job.status !== "running") continue;
      const running = this.scheduler.running.get(executionKey(pipelineId, job.jobId));
      const broker = running && this.#registry.brokers.get(running.broker);
      if (!broker) continue;
      for (let plan = running.plan; plan?.run?.length === 1; plan = plan.run[0]) {
        const jobId = plan.run[0]!.jobId;
        const follower = active.jobs.get(jobId);
        // A pending job's last number is its latest offer, if it had one.
        const attempt = follower?.status === "pending" ? follower.lastAttempt : undefined;
        if (attempt === undefined) break;
        this.#outbox.toPeer(broker.address, { type: "job-cancel", pipelineId, jobId, attempt });
      }
    }
  }

  /** Takes a job its broker started by itself as the running attempt, if it is the next one. */
  #adopt(
    active: Active,
    job: JobRecord,
    input: JsonObject,
    plan: JobPlan,
    followed: Followed,
  ): boolean {
    const key = executionKey(active.record.id, job.jobId);
    // Only the latest offer: an older one's run may still report, and is stopped.
    if (followed.attempt !== job.lastAttempt || this.scheduler.has(key)) return false;
    const attempt = { ...this.#attempt(active, job, input, plan), attempt: followed.attempt };
    this.scheduler.markRunning(attempt, followed.broker, Date.now());
    this.#running(active, job, attempt, followed.broker);
    return true;
  }

  /** The final outcome on record of a job that ended (succeeded or failed), if it did. */
  #recorded(job: JobRecord): JobOutcome | undefined {
    const durationMs = job.durationMs ?? 0;
    if (job.status === "succeeded" && job.output) {
      return { ok: true, output: job.output, durationMs };
    }
    if (job.status === "failed" && job.error) return { ok: false, error: job.error, durationMs };
    return undefined;
  }

  /** A pipeline is running from its first job request (or, direct, its job's dispatch). */
  #started(active: Active): void {
    if (active.record.status !== "queued") return;
    active.record.status = "running";
    active.record.startedAt = Date.now();
    this.#store.savePipeline(active.record);
  }

  /**
   * Queues the next attempt of a pending job, or, while it waits out a retry's back-off
   * (whoever asks: a replaying pipeliner, a plan, a restart), at `retryAt`.
   */
  #enqueue(active: Active, job: JobRecord, input: JsonObject, plan?: JobPlan): void {
    const wait = (job.retryAt ?? 0) - Date.now();
    if (wait <= 0) return this.scheduler.enqueue(this.#attempt(active, job, input, plan));
    const key = executionKey(active.record.id, job.jobId);
    if (this.#backingOff.has(key)) return; // Its timer queues it.
    this.#backingOff.add(key);
    this.#later(wait, () => {
      this.#backingOff.delete(key);
      if (this.#active.get(active.record.id) !== active || job.status !== "pending") return;
      this.#enqueue(active, job, input, plan);
    });
  }

  /** The next attempt of a pending job. */
  #attempt(active: Active, job: JobRecord, input: JsonObject, plan?: JobPlan): Attempt {
    return {
      pipelineId: active.record.id,
      jobId: job.jobId,
      fn: job.fn,
      input,
      attempt: this.#nextAttempt(job),
      ...(plan && (plan.run || plan.finish)
        ? { plan: { run: plan.run, finish: plan.finish } }
        : {}),
    };
  }

  /** The number of a job's next attempt: never one already run or offered. */
  #nextAttempt(job: JobRecord): number {
    return Math.max(job.attempts, job.lastAttempt ?? 0) + 1;
  }

  /** Marks a job as running its attempt on a broker. */
  #running(active: Active, job: JobRecord, attempt: Attempt, broker: BrokerEntry): void {
    this.#started(active);
    job.status = "running";
    job.attempts += 1; // A count: retries are counted with it, whatever the numbers skipped.
    // Never deleted: a deleted property turns the record into a slow dictionary object.
    if (job.lastAttempt !== undefined || attempt.attempt > job.attempts) {
      job.lastAttempt = Math.max(job.lastAttempt ?? 0, attempt.attempt);
    }
    job.broker = broker.id;
    job.startedAt ??= Date.now();
    this.#store.saveJob(active.record, job);
  }

  /**
   * What a broker may start by itself after a job: while a plan starts exactly one
   * job and does not end the pipeline, that job, if it is pending and the broker
   * serves its function.
   */
  #followers(
    active: Active,
    plan: JobPlan | undefined,
    broker: BrokerEntry,
    depth = 1,
  ): JobFollower | undefined {
    if (!plan || plan.finish || plan.run?.length !== 1 || depth > MAX_PLAN_DEPTH) return undefined;
    const step = plan.run[0]!;
    const job = active.jobs.get(step.jobId);
    const info = job && broker.functions.get(job.fn);
    if (!job || job.status !== "pending" || !info || info.error) return undefined;
    if ((job.retryAt ?? 0) > Date.now()) return undefined; // It waits out a back-off.
    if (this.scheduler.has(executionKey(active.record.id, job.jobId))) return undefined;
    const then = this.#followers(active, step, broker, depth + 1);
    const attempt = this.#nextAttempt(job);
    // Spent whether or not the broker starts it, so no two runs share a number.
    job.lastAttempt = attempt;
    this.#store.saveJob(active.record, job);
    return { jobId: job.jobId, fn: job.fn, attempt, ...(then ? { then } : {}) };
  }

  /**
   * A direct pipeline after a restart: its job runs again, or, when it had ended (a
   * store from before direct pipelines, whose pipeliner had not ended it yet), ends it.
   */
  #resumeDirect(active: Active): void {
    const [job] = active.jobs.values();
    const recorded = job && this.#recorded(job);
    if (job && recorded) this.#endDirect(active, job, recorded);
    else this.#runDirect(active);
  }

  /**
   * Queues the first job of a direct pipeline, with the pipeline's data as its input;
   * in a chain, with a plan that starts the next job and ends the pipeline after the last.
   */
  #runDirect(active: Active): void {
    const [job] = active.jobs.values();
    if (job?.status !== "pending") return;
    const plan = active.chain && planAfter(active.chain, job.jobId);
    this.#enqueue(active, job, mergeDocument({}, active.record.spec.data ?? {}), plan);
  }

  /**
   * A broker finished an attempt. Late, duplicate or unknown results are ignored. A
   * job the broker started by itself after it (`followed`) runs on as planned, or is
   * stopped when the plan is not taken.
   */
  jobDone(from: BrokerEntry, event: JobDoneEvent): void {
    const followed = event.followed;
    if (this.#jobDone(from, event) || !followed) return;
    this.#outbox.toPeer(from.address, {
      type: "job-cancel",
      pipelineId: event.pipelineId,
      jobId: followed.jobId,
      attempt: followed.attempt,
    });
  }

  /** Records a broker's result; true when the job it followed with is taken as running. */
  #jobDone(from: BrokerEntry, event: JobDoneEvent): boolean {
    const key = executionKey(event.pipelineId, event.jobId);
    const running = this.scheduler.running.get(key);
    if (!running || running.broker !== from.id || running.attempt !== event.attempt) {
      this.#log.debug("Ignoring a late or duplicate result for {jobId} of {pipelineId}", {
        jobId: event.jobId,
        pipelineId: event.pipelineId,
      });
      return false;
    }
    this.scheduler.finish(key);
    const outcome = event.outcome;
    this.#registry.recordRun(from, outcome.durationMs);
    this.onJobFinished?.(running.fn, outcome.ok ? "succeeded" : "failed", outcome.durationMs);
    const active = this.#active.get(event.pipelineId);
    const job = active?.jobs.get(event.jobId);
    if (!active || !job || running.cancelled || job.status !== "running") return false;
    job.durationMs = outcome.durationMs;
    if (outcome.ok) {
      job.status = "succeeded";
      job.output = outcome.output;
      job.finishedAt = Date.now();
      mergeDocument(active.record.document, outcome.output);
      this.#store.saveJob(active.record, job);
      this.#result(active, job, outcome);
      if (!running.plan) return false;
      const follower = event.followed && { ...event.followed, broker: from };
      return this.#follow(active, running.input, outcome.output, running.plan, follower);
    }
    job.error = outcome.error;
    job.attemptErrors = [...(job.attemptErrors ?? []), outcome.error];
    const crashed = CRASHES.has(outcome.error.name);
    if (crashed && this.#poisoned(active, job)) return false;
    const retries = this.#registry.config(job.fn)?.retries ?? 0;
    // A crash is retried whatever `retries` says (at-least-once), until it is poison.
    if (outcome.error.retryable && (crashed || job.attempts <= retries)) {
      job.status = "pending";
      const delay = this.#backoff(job.attempts);
      job.retryAt = Date.now() + delay;
      this.#store.saveJob(active.record, job);
      this.#log.info(
        "Retrying job {jobId} of {pipelineId} in {delay} ms (attempt {attempt} failed: {error})",
        {
          jobId: job.jobId,
          pipelineId: event.pipelineId,
          delay,
          attempt: job.attempts,
          error: outcome.error.message,
        },
      );
      this.#enqueue(active, job, running.input, running.plan);
      return false;
    }
    job.status = "failed";
    job.finishedAt = Date.now();
    this.#store.saveJob(active.record, job);
    this.#cancelFollowers(active);
    this.#result(active, job, outcome);
    return false;
  }

  /** A pipeliner reports the end of a pipeline. */
  pipelineFinish(from: PipelinerEntry, event: PipelineFinishEvent): void {
    const active = this.#active.get(event.pipelineId);
    if (!active || active.pipeliner !== from.id) return;
    const status = event.status === "succeeded" ? "succeeded" : "failed";
    this.#skipPending(active);
    if (status === "failed") {
      const failed = [...active.jobs.values()].find((job) => job.status === "failed");
      active.record.error = failed?.error
        ? jobFailure(failed.jobId, failed.error)
        : { name: "PipelineFailedError", message: "A job failed", retryable: false };
    }
    this.#end(active, status, event.document);
  }

  /** Sends ready attempts to brokers with free slots. */
  dispatch(): void {
    this.scheduler.dispatch(Date.now(), (attempt: Attempt, broker: BrokerEntry) => {
      const active = this.#active.get(attempt.pipelineId);
      const job = active?.jobs.get(attempt.jobId);
      if (active && job) this.#running(active, job, attempt, broker);
      // Only into a free slot: a queued job gains nothing from skipping the Router (the
      // slot has other work meanwhile), and a host runs its queue back to back only
      // where no job waits on its follower.
      const then = active && broker.running.size <= broker.slots &&
        this.#followers(active, attempt.plan, broker);
      this.#outbox.toPeer(broker.address, {
        type: "job-run",
        pipelineId: attempt.pipelineId,
        jobId: attempt.jobId,
        fn: attempt.fn,
        attempt: attempt.attempt,
        input: attempt.input,
        ...(then ? { then } : {}),
      });
    });
  }

  /** Deletes ended pipelines older than `maxAgeMs`; returns how many. */
  prune(maxAgeMs: number): number {
    return this.#store.prune(Date.now() - maxAgeMs);
  }

  #assign(active: Active, to?: PipelinerEntry): void {
    if (active.direct) return;
    const pipeliner = to ?? this.#registry.pickPipeliner();
    if (!pipeliner) return; // Stays queued until a pipeliner joins.
    active.pipeliner = pipeliner.id;
    pipeliner.pipelines.add(active.record.id);
    this.#outbox.toPeer(pipeliner.address, {
      type: "pipeline-assign",
      pipelineId: active.record.id,
      spec: active.record.spec,
      jobs: [],
    });
  }

  #result(active: Active, job: JobRecord, outcome: JobOutcome): void {
    if (active.direct) return this.#endDirect(active, job, outcome);
    const pipeliner = active.pipeliner
      ? this.#registry.pipeliners.get(active.pipeliner)
      : undefined;
    if (!pipeliner) return; // A new pipeliner will ask again and be answered from the record.
    this.#outbox.toPeer(pipeliner.address, {
      type: "job-result",
      pipelineId: active.record.id,
      jobId: job.jobId,
      outcome,
    });
  }

  /**
   * Ends a direct pipeline as a pipeliner would: a one-job pipeline with its job's final
   * outcome; a chain when a job fails for good (its last job's plan ends it on success),
   * the jobs after it skipped and the data merged with the outputs so far as document.
   */
  #endDirect(active: Active, job: JobRecord, outcome: JobOutcome): void {
    const document = mergeDocument({}, active.record.spec.data ?? {});
    if (outcome.ok) {
      if (active.jobs.size === 1) {
        this.#end(active, "succeeded", mergeDocument(document, outcome.output));
      }
      return;
    }
    for (const other of active.jobs.values()) {
      if (other.status === "succeeded" && other.output) mergeDocument(document, other.output);
    }
    this.#skipPending(active);
    active.record.error = jobFailure(job.jobId, job.error ?? outcome.error);
    this.#end(active, "failed", document);
  }

  /** Marks the jobs that never started as skipped: the pipeline ends without them. */
  #skipPending(active: Active): void {
    for (const job of active.jobs.values()) {
      if (job.status === "pending") {
        job.status = "skipped";
        this.#store.saveJob(active.record, job);
      }
    }
  }

  #end(active: Active, status: "succeeded" | "failed" | "cancelled", document: JsonObject): void {
    const record = active.record;
    record.status = status;
    record.document = document;
    record.finishedAt = Date.now();
    record.startedAt ??= record.finishedAt;
    record.durationMs = record.finishedAt - record.startedAt;
    this.#store.savePipeline(record);
    this.#active.delete(record.id);
    if (active.pipeliner) {
      this.#registry.pipeliners.get(active.pipeliner)?.pipelines.delete(record.id);
    }
    this.#outbox.pipelineEnded({ ...record, jobs: [...active.jobs.values()] });
  }

  #backoff(attempt: number): number {
    const base = Math.min(this.#options.retryBaseMs * 2 ** (attempt - 1), this.#options.retryMaxMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Whether a status is final. */
  static ended(status: string): boolean {
    return ENDED.has(status);
  }
}
