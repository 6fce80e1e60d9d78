/**
 * Jobs on their way through brokers: queueing an attempt (or waiting out its
 * back-off), marking it running when dispatched, recording its outcome once (a late
 * or duplicate result is dropped), retrying, failing as poison, and telling whoever
 * drives the pipeline.
 *
 * @module
 */
import { mergeDocument } from "../../../core/dag/mod.ts";
import type {
  JobDoneEvent,
  JobOutcome,
  JobPlan,
  JobRecord,
  JobRequestEvent,
  JobRunEvent,
} from "../../../core/protocol/mod.ts";
import type { JsonObject } from "../../../core/types.ts";
import type { BrokerEntry, PipelinerEntry } from "../registry.ts";
import { type Attempt, executionKey } from "../scheduler.ts";
import {
  attemptOutcome,
  backoffMs,
  DEFAULT_MAX_CRASHES,
  isCrash,
  nextAttempt,
  poisonError,
  recordedOutcome,
  retried,
} from "./attempts.ts";
import { type Active, type Pipelines, started } from "./context.ts";
import { directResult } from "./direct.ts";
import { cancelFollowers, follow, followers } from "./plans.ts";
import { decide, jobOptions } from "./decide.ts";
import { itemDispatched, itemDone } from "./map.ts";

/**
 * Queues the next attempt of a pending job, or, while it waits out a retry's back-off
 * (whoever asks: a replaying pipeliner, a plan, a restart), at `retryAt`.
 */
export function enqueue(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  input: JsonObject,
  plan?: JobPlan,
): void {
  // Not before its retry's back-off, nor before its pipeline's `runAt`.
  const wait = Math.max(job.retryAt ?? 0, active.record.runAt ?? 0) - Date.now();
  if (wait <= 0) return ctx.scheduler.enqueue(attemptOf(active, job, input, plan));
  const key = executionKey(active.record.id, job.jobId);
  if (ctx.backingOff.has(key)) return; // Its timer queues it.
  ctx.backingOff.add(key);
  ctx.later(wait, () => {
    ctx.backingOff.delete(key);
    if (ctx.active.get(active.record.id) !== active || job.status !== "pending") return;
    enqueue(ctx, active, job, input, plan);
  });
}

/** The next attempt of a pending job. */
export function attemptOf(
  active: Active,
  job: JobRecord,
  input: JsonObject,
  plan?: JobPlan,
): Attempt {
  return {
    pipelineId: active.record.id,
    jobId: job.jobId,
    fn: job.fn,
    input,
    attempt: nextAttempt(job),
    priority: active.record.spec.priority ?? 0,
    ...(plan && (plan.run || plan.finish) ? { plan: { run: plan.run, finish: plan.finish } } : {}),
  };
}

/** Marks a job as running its attempt on a broker. */
export function markRunning(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  attempt: Attempt,
  broker: BrokerEntry,
  now = Date.now(),
): void {
  started(ctx, active);
  job.status = "running";
  job.attempts += 1; // A count: retries are counted with it, whatever the numbers skipped.
  // Never deleted: a deleted property turns the record into a slow dictionary object.
  if (job.lastAttempt !== undefined || attempt.attempt > job.attempts) {
    job.lastAttempt = Math.max(job.lastAttempt ?? 0, attempt.attempt);
  }
  job.broker = broker.id;
  job.host = broker.host;
  job.startedAt ??= now;
  ctx.store.saveJob(active.record, job);
}

/** Sends ready attempts to brokers with free slots. */
export function dispatch(ctx: Pipelines): void {
  // One clock reading for the batch: a job's recorded start is the one its limits counted.
  const now = Date.now();
  ctx.scheduler.dispatch(now, (attempt: Attempt, broker: BrokerEntry) => {
    if (attempt.item) return dispatchItem(ctx, attempt, broker);
    const active = ctx.active.get(attempt.pipelineId);
    const job = active?.jobs.get(attempt.jobId);
    if (active && job) markRunning(ctx, active, job, attempt, broker, now);
    // Only into a free slot: a queued job gains nothing from skipping the Router (the
    // slot has other work meanwhile), and a host runs its queue back to back only
    // where no job waits on its follower.
    const then = active && broker.running.size <= broker.slots &&
      followers(ctx, active, attempt.plan, broker);
    const traceparent = ctx.trace?.dispatched(attempt, broker.id);
    sendRun(ctx, broker, attempt, {
      ...(then ? { then } : {}),
      ...(job?.attemptErrors?.at(-1)?.shared ? { alone: true } : {}),
      ...(traceparent ? { traceparent } : {}),
    });
  });
}

/** Sends an attempt to its broker, with what its dispatch adds to the run. */
function sendRun(
  ctx: Pipelines,
  broker: BrokerEntry,
  attempt: Attempt,
  extra: Pick<JobRunEvent, "then" | "alone" | "traceparent">,
): void {
  ctx.outbox.toPeer(broker.address, {
    type: "job-run",
    pipelineId: attempt.pipelineId,
    jobId: attempt.jobId,
    fn: attempt.fn,
    attempt: attempt.attempt,
    input: attempt.input,
    ...extra,
  });
}

/** Sends a map item's attempt to its broker. */
function dispatchItem(ctx: Pipelines, attempt: Attempt, broker: BrokerEntry): void {
  const alone = itemDispatched(ctx, attempt, broker);
  sendRun(ctx, broker, attempt, alone ? { alone: true } : {});
}

/** A pipeliner asks for a job; answered from the record when it already ended. */
export function jobRequest(ctx: Pipelines, from: PipelinerEntry, event: JobRequestEvent): void {
  const active = ctx.active.get(event.pipelineId);
  const job = active?.jobs.get(event.jobId);
  if (!active || !job || active.pipeliner !== from.id) return;
  // Only a job with options (an object in `jobs`) has anything for the Router to decide.
  const options = active.record.spec.jobs && jobOptions(active.record.spec, job.jobId);
  if (options && decide(ctx, active, job, options, event)) return;
  const recorded = recordedOutcome(job);
  if (recorded) {
    result(ctx, active, job, recorded);
    // Whoever is told of a success may count on its plan having been followed.
    if (recorded.ok && event.plan) follow(ctx, active, event.input, recorded.output, event.plan);
    return;
  }
  if (job.status !== "pending") return;
  started(ctx, active);
  enqueue(ctx, active, job, event.input, event.plan);
}

/**
 * A broker finished an attempt. Late, duplicate or unknown results are ignored. A
 * job the broker started by itself after it (`followed`) runs on as planned, or is
 * stopped when the plan is not taken.
 */
export function jobDone(ctx: Pipelines, from: BrokerEntry, event: JobDoneEvent): void {
  const followed = event.followed;
  if (recordDone(ctx, from, event) || !followed) return;
  ctx.outbox.toPeer(from.address, {
    type: "job-cancel",
    pipelineId: event.pipelineId,
    jobId: followed.jobId,
    attempt: followed.attempt,
  });
}

/** Records a broker's result; true when the job it followed with is taken as running. */
export function recordDone(ctx: Pipelines, from: BrokerEntry, event: JobDoneEvent): boolean {
  const key = executionKey(event.pipelineId, event.jobId);
  const running = ctx.scheduler.running.get(key);
  if (!running || running.broker !== from.id || running.attempt !== event.attempt) {
    lateResult(ctx, from.id, event);
    return false;
  }
  ctx.scheduler.finish(key);
  const outcome = event.outcome;
  ctx.registry.recordRun(from, outcome.durationMs);
  ctx.onJobFinished?.(running.fn, outcome.ok ? "succeeded" : "failed", outcome.durationMs);
  ctx.onAttemptEnded?.(running.fn, attemptOutcome(outcome, running.cancelled === true));
  if (running.item) {
    itemDone(ctx, running, outcome);
    return false;
  }
  const active = ctx.active.get(event.pipelineId);
  const job = active?.jobs.get(event.jobId);
  if (!active || !job || running.cancelled || job.status !== "running") return false;
  job.durationMs = outcome.durationMs;
  if (outcome.ok) {
    job.status = "succeeded";
    job.output = outcome.output;
    job.finishedAt = Date.now();
    mergeDocument(active.record.document, outcome.output);
    ctx.store.saveJob(active.record, job);
    result(ctx, active, job, outcome);
    if (!running.plan) return false;
    const follower = event.followed && { ...event.followed, broker: from };
    return follow(ctx, active, running.input, outcome.output, running.plan, follower);
  }
  job.error = outcome.error;
  job.attemptErrors = [...(job.attemptErrors ?? []), outcome.error];
  if (isCrash(outcome.error) && poisoned(ctx, active, job)) return false;
  const retries = ctx.registry.config(job.fn)?.retries ?? 0;
  if (retried(outcome.error, job.attempts, retries)) {
    job.status = "pending";
    const { retryBaseMs, retryMaxMs } = ctx.options;
    const delay = backoffMs(job.attempts, retryBaseMs, retryMaxMs, Math.random());
    job.retryAt = Date.now() + delay;
    ctx.store.saveJob(active.record, job);
    ctx.log.info(
      "Retrying job {jobId} of {pipelineId} in {delay} ms (attempt {attempt} failed: {error})",
      {
        jobId: job.jobId,
        pipelineId: event.pipelineId,
        delay,
        attempt: job.attempts,
        error: outcome.error.message,
      },
    );
    enqueue(ctx, active, job, running.input, running.plan);
    return false;
  }
  job.status = "failed";
  job.finishedAt = Date.now();
  ctx.store.saveJob(active.record, job);
  cancelFollowers(ctx, active);
  result(ctx, active, job, outcome);
  return false;
}

/**
 * A result the Router no longer expects (a broker it declared lost, an attempt run
 * again meanwhile, a report sent twice): dropped, so that each job's outcome is the
 * one recorded, logged and counted.
 */
export function lateResult(ctx: Pipelines, broker: string, event: JobDoneEvent): void {
  ctx.log.info(
    "Ignoring a late result for {jobId} of {pipelineId} (attempt {attempt}) from {broker}",
    {
      jobId: event.jobId,
      pipelineId: event.pipelineId,
      attempt: event.attempt,
      broker,
    },
  );
  ctx.onLateResult?.();
  // The attempt of before a restart ended: it no longer counts against its limit.
  ctx.scheduler.limits.release(executionKey(event.pipelineId, event.jobId));
}

/** Fails a job that crashed its process too often; true when it did. */
export function poisoned(ctx: Pipelines, active: Active, job: JobRecord): boolean {
  const maxCrashes = ctx.options.maxCrashes ?? DEFAULT_MAX_CRASHES;
  const error = poisonError(job.jobId, job.attemptErrors ?? [], maxCrashes);
  if (!error) return false;
  job.error = error;
  job.status = "failed";
  job.finishedAt = Date.now();
  ctx.store.saveJob(active.record, job);
  cancelFollowers(ctx, active);
  result(ctx, active, job, recordedOutcome(job)!);
  return true;
}

/** Tells whoever drives the pipeline a job's final outcome: its pipeliner, or the Router. */
export function result(ctx: Pipelines, active: Active, job: JobRecord, outcome: JobOutcome): void {
  if (active.direct) return directResult(ctx, active, job, outcome);
  const pipeliner = active.pipeliner ? ctx.registry.pipeliners.get(active.pipeliner) : undefined;
  if (!pipeliner) return; // A new pipeliner will ask again and be answered from the record.
  ctx.outbox.toPeer(pipeliner.address, {
    type: "job-result",
    pipelineId: active.record.id,
    jobId: job.jobId,
    outcome,
  });
}
