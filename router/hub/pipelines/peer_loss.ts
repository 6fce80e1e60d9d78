/**
 * What losing a peer does to the pipelines: a broker gone (its attempts run again,
 * counted toward poison), a worker host lost (the job it was running failed as a
 * crash, the jobs it held never began), a pipeliner gone (its pipelines go to
 * another).
 *
 * @module
 */
import { errorData, ErrorName } from "../../../core/errors.ts";
import type { HostLostEvent, JobRecord } from "../../../core/protocol/mod.ts";
import type { ErrorData } from "../../../core/types.ts";
import type { BrokerEntry, PipelinerEntry } from "../registry.ts";
import { executionKey, type RunningAttempt } from "../scheduler.ts";
import { nextAttempt } from "./attempts.ts";
import { type Active, assign, type Pipelines } from "./context.ts";
import { poisoned, recordDone } from "./jobs.ts";
import { itemLost } from "./map.ts";

/** A pipeliner joined: give it pipelines nobody drives. */
export function pipelinerJoined(ctx: Pipelines, entry: PipelinerEntry): void {
  for (const active of ctx.active.values()) {
    if (!active.pipeliner || !ctx.registry.pipeliners.has(active.pipeliner)) {
      assign(ctx, active, entry);
    }
  }
}

/** A pipeliner left or died: its pipelines go to others (or wait for one). */
export function pipelinerGone(ctx: Pipelines, entry: PipelinerEntry): void {
  ctx.registry.pipeliners.delete(entry.id);
  for (const id of entry.pipelines) {
    const active = ctx.active.get(id);
    if (!active) continue;
    active.pipeliner = undefined;
    assign(ctx, active);
  }
}

/** A broker left or died: its running attempts go back to the queue. */
export function brokerGone(ctx: Pipelines, entry: BrokerEntry): void {
  const lostIn = (jobId: string) =>
    errorData(
      ErrorName.BrokerLost,
      `Broker "${entry.id}" was lost while running job "${jobId}"`,
      true,
    );
  forget(ctx, entry, lostIn, (active, job, running) => {
    ctx.onAttemptEnded?.(running.fn, "lost");
    const lost = lostIn(job.jobId);
    job.error = lost;
    job.attemptErrors = [...(job.attemptErrors ?? []), lost];
    if (poisoned(ctx, active, job)) return;
    ctx.log.warn("Requeuing job {jobId} of {pipelineId}: broker {broker} is gone", {
      jobId: running.jobId,
      pipelineId: running.pipelineId,
      broker: entry.id,
    });
    job.status = "pending";
    ctx.store.saveJob(active.record, job);
    ctx.scheduler.enqueue({ ...running, attempt: nextAttempt(job) });
  });
}

/**
 * A broker's worker host is gone. When it died (`crash`), the job it was running
 * failed with the broker's error (a crash: retried until poison). The jobs it still
 * held never began (a host that leaves has reported every job it ran first): they
 * are queued again without counting a run.
 */
export function hostLost(
  ctx: Pipelines,
  entry: BrokerEntry,
  crash?: Pick<HostLostEvent, "running" | "error">,
): void {
  if (crash?.running) crashed(ctx, entry, crash.running, crash.error);
  forget(ctx, entry, undefined, (active, job, held) => {
    job.status = "pending";
    job.attempts = Math.max(0, job.attempts - 1); // It never ran.
    // Its number is spent all the same: a late report of it must not pass for the next run.
    job.lastAttempt = Math.max(job.lastAttempt ?? 0, held.attempt);
    ctx.store.saveJob(active.record, job);
    ctx.scheduler.enqueue({ ...held, attempt: nextAttempt(job) });
  });
}

/**
 * Forgets a broker, handing each of its attempts whose job still runs to `requeue`;
 * a map item's goes back to its map, with `lost` (its error) when it counts as a run.
 */
function forget(
  ctx: Pipelines,
  entry: BrokerEntry,
  lost: ((jobId: string) => ErrorData) | undefined,
  requeue: (active: Active, job: JobRecord, running: RunningAttempt) => void,
): void {
  ctx.registry.brokers.delete(entry.id);
  const served = ctx.registry.runnable();
  const gone = [...entry.functions.values()].filter((f) => !f.error && !served.has(f.name));
  ctx.known.lost(gone.map((f) => f.name));
  for (const running of ctx.scheduler.runningOn(entry.id)) {
    ctx.scheduler.finish(executionKey(running.pipelineId, running.jobId));
    if (running.item) {
      itemLost(ctx, running, lost?.(running.jobId));
      continue;
    }
    const active = ctx.active.get(running.pipelineId);
    const job = active?.jobs.get(running.jobId);
    if (active && job && !running.cancelled && job.status === "running") {
      requeue(active, job, running);
    }
  }
}

/**
 * The job a dead host was running: failed with the host's error, as a report would
 * have. A follower the Router had not taken as running yet (the report that it
 * followed was lost with the host) still has the crash counted, so that a job
 * that keeps killing hosts becomes poison either way.
 */
function crashed(
  ctx: Pipelines,
  entry: BrokerEntry,
  running: NonNullable<HostLostEvent["running"]>,
  error: ErrorData,
): void {
  const key = executionKey(running.pipelineId, running.jobId);
  const current = ctx.scheduler.running.get(key);
  if (current?.broker === entry.id && current.attempt === running.attempt) {
    recordDone(ctx, entry, {
      type: "job-done",
      pipelineId: running.pipelineId,
      jobId: running.jobId,
      attempt: running.attempt,
      outcome: { ok: false, error, durationMs: 0 },
    });
    return;
  }
  const active = ctx.active.get(running.pipelineId);
  const job = active?.jobs.get(running.jobId);
  if (!active || !job || job.status !== "pending" || job.lastAttempt !== running.attempt) return;
  job.attemptErrors = [...(job.attemptErrors ?? []), error];
  if (!poisoned(ctx, active, job)) ctx.store.saveJob(active.record, job);
}
