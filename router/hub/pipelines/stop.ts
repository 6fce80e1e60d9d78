/**
 * Ending an active pipeline early: cancelled, or failed at its deadline.
 *
 * @module
 */
import { errorData, ErrorName } from "../../../core/errors.ts";
import { executionKey } from "../scheduler.ts";
import { type Active, end, type Pipelines } from "./context.ts";
import { stopMaps } from "./map.ts";

/**
 * Ends `active` early: waiting jobs are dropped, running ones stopped at their
 * brokers, unfinished ones marked cancelled, its pipeliner told to let go.
 */
export function stopPipeline(
  ctx: Pipelines,
  active: Active,
  status: "cancelled" | "failed",
): void {
  const pipelineId = active.record.id;
  ctx.scheduler.dropPipeline(pipelineId);
  if (active.maps) stopMaps(ctx, active);
  for (const job of active.jobs.values()) {
    if (job.status === "running") {
      const running = ctx.scheduler.running.get(executionKey(pipelineId, job.jobId));
      if (running) {
        running.cancelled = true;
        const broker = ctx.registry.brokers.get(running.broker);
        if (broker) {
          ctx.outbox.toPeer(broker.address, { type: "job-cancel", pipelineId, jobId: job.jobId });
        }
      }
    }
    if (job.status === "pending" || job.status === "running" || job.status === "waiting") {
      job.status = "cancelled";
      job.finishedAt = Date.now();
      ctx.store.saveJob(active.record, job);
    }
  }
  const pipeliner = active.pipeliner ? ctx.registry.pipeliners.get(active.pipeliner) : undefined;
  if (pipeliner) ctx.outbox.toPeer(pipeliner.address, { type: "pipeline-cancel", pipelineId });
  end(ctx, active, status, active.record.document);
}

/** Fails the pipeline if it is still running at its deadline. */
export function watchDeadline(ctx: Pipelines, active: Active): void {
  const deadlineMs = active.record.spec.deadlineMs;
  if (deadlineMs === undefined) return;
  // A delayed pipeline's deadline counts from when it may start.
  const at = (active.record.runAt ?? active.record.createdAt) + deadlineMs;
  // Holds the id only: a pipeline that ended is not kept in memory until its deadline.
  const id = active.record.id;
  ctx.later(Math.max(0, at - Date.now()), () => {
    const current = ctx.active.get(id);
    if (!current) return;
    current.record.error = errorData(
      ErrorName.PipelineDeadline,
      `Pipeline "${id}" did not end within its deadline of ${deadlineMs} ms`,
      false,
    );
    stopPipeline(ctx, current, "failed");
  });
}
