/**
 * What the pipeline service does for flow control beyond the scheduler: a record's
 * `runAt` from its spec (the store keeps the spec, not `runAt`), and, after a
 * restart, the limits' state: the starts remembered in the store, and the attempts
 * that were running when the Router stopped, which may still run on their brokers.
 *
 * @module
 */
import { runAtOf } from "../../../core/dag/mod.ts";
import type { JobRecord, PipelineRecord } from "../../../core/protocol/mod.ts";
import { executionKey } from "../scheduler.ts";
import type { Pipelines } from "./context.ts";

/**
 * How long an attempt that was running when the Router stopped is held against its
 * limit at most, should its result never come (its host died too).
 */
const IN_DOUBT_MS = 60_000;

/** Sets a record's `runAt` from its spec. */
export function withRunAt(record: PipelineRecord): PipelineRecord {
  const runAt = runAtOf(record.spec, record.createdAt);
  if (runAt !== undefined) record.runAt = runAt;
  return record;
}

/** Before recovery: the starts of rate-limited functions from the store. */
export function restoreLimits(ctx: Pipelines): void {
  ctx.scheduler.limits.restoreStarts(ctx.store.starts.recent());
  ctx.later(IN_DOUBT_MS, () => ctx.scheduler.limits.releaseAll());
}

/** A job running at the crash: it counts against its limit until its result comes (dropped as late). */
export function holdRunning(ctx: Pipelines, record: PipelineRecord, job: JobRecord): void {
  ctx.scheduler.limits.holdInDoubt(job.fn, record.document, executionKey(record.id, job.jobId));
}
