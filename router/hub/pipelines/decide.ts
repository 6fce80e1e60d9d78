/**
 * What the Router decides when a pipeliner asks for a job that has options: a `when`
 * that does not hold skips it, a `wait` puts it in wait for its signal, a `map` runs
 * its items. The Router decides, not the pipeliner, so the decision is recorded
 * once, before anyone is told, and a pipeliner that replays the pipeline is answered
 * from the record.
 *
 * @module
 */
import { conditionHolds } from "../../../core/dag/mod.ts";
import type { JobRecord, JobRequestEvent } from "../../../core/protocol/mod.ts";
import type { JobOptions, PipelineSpec } from "../../../core/types.ts";
import { type Active, type Pipelines, started } from "./context.ts";
import { result } from "./jobs.ts";
import { mapOutcome, startMap } from "./map.ts";
import { startWait } from "./signals.ts";

/** A job's options, when its `jobs` entry has any (a validated spec). */
export function jobOptions(spec: PipelineSpec, jobId: string): JobOptions | undefined {
  const entry = spec.jobs?.[jobId];
  return typeof entry === "object" ? entry : undefined;
}

/**
 * Takes a job request for a job with `options`; false when it is left to run as any
 * job (its `when` held and it has no `map` or `wait`, or it already ended).
 */
export function decide(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  options: JobOptions,
  event: JobRequestEvent,
): boolean {
  switch (job.status) {
    case "skipped":
      skippedResult(ctx, active, job);
      return true;
    case "succeeded":
      if (options.map === undefined) return false;
      result(ctx, active, job, mapOutcome(ctx, active, job));
      return true;
    case "pending":
      break;
    default:
      return false; // Running or waiting: it ends by itself; failed: answered from the record.
  }
  if (options.when && !conditionHolds(options.when, event.input)) {
    started(ctx, active);
    job.status = "skipped";
    job.finishedAt = Date.now();
    ctx.store.saveJob(active.record, job);
    skippedResult(ctx, active, job);
    return true;
  }
  if (options.wait !== undefined) {
    startWait(ctx, active, job, options.wait, options.timeoutMs);
    return true;
  }
  if (options.map !== undefined) {
    startMap(ctx, active, job, options.map, options.mapConcurrency, event.input);
    return true;
  }
  return false;
}

/** Tells the pipeliner a job was skipped: done, with no output. */
function skippedResult(ctx: Pipelines, active: Active, job: JobRecord): void {
  const pipeliner = active.pipeliner ? ctx.registry.pipeliners.get(active.pipeliner) : undefined;
  if (!pipeliner) return; // A new pipeliner will ask again and be answered from the record.
  ctx.outbox.toPeer(pipeliner.address, {
    type: "job-result",
    pipelineId: active.record.id,
    jobId: job.jobId,
    outcome: { ok: true, output: {}, durationMs: 0 },
    skipped: true,
  });
}
