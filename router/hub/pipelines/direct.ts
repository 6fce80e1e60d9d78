/**
 * Pipelines the Router drives itself: one job, or a chain (each job after the one
 * before), have no order to decide, so no pipeliner takes part and they cost no
 * message to one.
 *
 * @module
 */
import { type Dag, mergeDocument, planAfter } from "../../../core/dag.ts";
import type { JobOutcome, JobPlan, JobRecord } from "../../../core/protocol.ts";
import { recordedOutcome } from "./attempts.ts";
import {
  type Active,
  end,
  jobFailure,
  type Pipelines,
  skipPending,
  startingDocument,
} from "./context.ts";
import { enqueue } from "./jobs.ts";

/** How the Router drives a direct pipeline. */
export interface Direct {
  /** A chain's DAG, for the plan of each of its jobs. */
  chain?: Dag;
}

/** The plan of a chain's job, afresh: a plan reaches only PLAN_DEPTH jobs ahead. */
export function replan(direct: Direct, jobId: string): JobPlan {
  return (direct.chain && planAfter(direct.chain, jobId)) ?? {};
}

/**
 * A direct pipeline after a restart: its job runs again, or, when it had ended (a
 * store from before direct pipelines, whose pipeliner had not ended it yet), ends it.
 */
export function resumeDirect(ctx: Pipelines, active: Active): void {
  const [job] = active.jobs.values();
  const recorded = job && recordedOutcome(job);
  if (job && recorded) directResult(ctx, active, job, recorded);
  else runDirect(ctx, active);
}

/**
 * Queues the first job of a direct pipeline, with the pipeline's data as its input;
 * in a chain, with a plan that starts the next job and ends the pipeline after the last.
 */
export function runDirect(ctx: Pipelines, active: Active): void {
  const [job] = active.jobs.values();
  if (job?.status !== "pending") return;
  const chain = active.direct?.chain;
  const plan = chain && planAfter(chain, job.jobId);
  enqueue(ctx, active, job, startingDocument(active), plan);
}

/**
 * Ends a direct pipeline as a pipeliner would: a one-job pipeline with its job's final
 * outcome; a chain when a job fails for good (its last job's plan ends it on success),
 * the jobs after it skipped and the data merged with the outputs so far as document.
 */
export function directResult(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  outcome: JobOutcome,
): void {
  const document = startingDocument(active);
  if (outcome.ok) {
    if (active.jobs.size === 1) {
      end(ctx, active, "succeeded", mergeDocument(document, outcome.output));
    }
    return;
  }
  for (const other of active.jobs.values()) {
    if (other.status === "succeeded" && other.output) mergeDocument(document, other.output);
  }
  skipPending(ctx, active);
  active.record.error = jobFailure(job.jobId, job.error ?? outcome.error);
  end(ctx, active, "failed", document);
}
