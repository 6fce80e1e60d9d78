/**
 * Plans and followers: the steps a job's success takes by itself (its children whose
 * only parent it is start, the pipeline ends after its last job) without a round
 * trip to whoever drives the pipeline, and the jobs a broker may start by itself
 * after one (`then`), which the Router takes as running when it hears they began.
 *
 * @module
 */
import { mergeDocument } from "../../../core/dag/mod.ts";
import type { JobFollower, JobPlan, JobRecord } from "../../../core/protocol/mod.ts";
import { MAX_PLAN_DEPTH } from "../../../core/protocol/mod.ts";
import type { JsonObject } from "../../../core/types.ts";
import type { BrokerEntry } from "../registry.ts";
import { executionKey } from "../scheduler.ts";
import { nextAttempt, recordedOutcome } from "./attempts.ts";
import { type Active, end, type Followed, type Pipelines } from "./context.ts";
import { replan } from "./direct.ts";
import { attemptOf, enqueue, markRunning, result } from "./jobs.ts";

/**
 * Takes the steps planned for a job's success: starts the planned jobs still pending
 * and ends the pipeline if planned, with the job's input merged with its output as
 * their input and as the document. True when `followed`, the job its broker started
 * by itself, is taken as running.
 */
export function follow(
  ctx: Pipelines,
  active: Active,
  input: JsonObject,
  output: JsonObject,
  plan: JobPlan,
  followed?: Followed,
): boolean {
  if (ctx.active.get(active.record.id) !== active) return false;
  // A final failure elsewhere: no new job starts (the pipeliner sees it the same way,
  // since it gets results in this order).
  for (const job of active.jobs.values()) if (job.status === "failed") return false;
  const merged = mergeDocument(mergeDocument({}, input), output);
  let adopted = false;
  for (const step of plan.run ?? []) {
    const job = active.jobs.get(step.jobId);
    if (!job) continue;
    if (job.status === "pending") {
      // A direct chain plans each job afresh: a plan reaches only PLAN_DEPTH jobs ahead.
      const next = active.direct ? replan(active.direct, job.jobId) : step;
      if (followed?.jobId === step.jobId && adopt(ctx, active, job, merged, next, followed)) {
        adopted = true;
      } else enqueue(ctx, active, job, merged, next);
      continue;
    }
    // Planned jobs that already ended (a pipeliner replaying after a restart): it will
    // not ask for them, so it is told their outcomes, and what followed them is followed.
    const recorded = recordedOutcome(job);
    if (!recorded) continue;
    result(ctx, active, job, recorded);
    if (recorded.ok) follow(ctx, active, merged, recorded.output, step);
  }
  if (plan.finish) end(ctx, active, "succeeded", merged);
  return adopted;
}

/** Takes a job its broker started by itself as the running attempt, if it is the next one. */
function adopt(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  input: JsonObject,
  plan: JobPlan,
  followed: Followed,
): boolean {
  const key = executionKey(active.record.id, job.jobId);
  // Only the latest offer: an older one's run may still report, and is stopped.
  if (followed.attempt !== job.lastAttempt || ctx.scheduler.has(key)) return false;
  const attempt = { ...attemptOf(active, job, input, plan), attempt: followed.attempt };
  ctx.scheduler.markRunning(attempt, followed.broker, Date.now());
  markRunning(ctx, active, job, attempt, followed.broker);
  return true;
}

/**
 * What a broker may start by itself after a job: while a plan starts exactly one
 * job and does not end the pipeline, that job, if it is pending and the broker
 * serves its function.
 */
export function followers(
  ctx: Pipelines,
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
  // A limited function waits its turn; one of a higher priority may be waiting.
  if (ctx.scheduler.holdsBack(job.fn, active.record.spec.priority ?? 0)) return undefined;
  if (ctx.scheduler.has(executionKey(active.record.id, job.jobId))) return undefined;
  const then = followers(ctx, active, step, broker, depth + 1);
  const attempt = nextAttempt(job);
  // Spent whether or not the broker starts it, so no two runs share a number.
  job.lastAttempt = attempt;
  ctx.store.saveJob(active.record, job);
  return { jobId: job.jobId, fn: job.fn, attempt, ...(then ? { then } : {}) };
}

/**
 * After a final failure no planned job starts: the jobs brokers would start by
 * themselves after this pipeline's running jobs are called off.
 */
export function cancelFollowers(ctx: Pipelines, active: Active): void {
  const pipelineId = active.record.id;
  for (const job of active.jobs.values()) {
    if (job.status !== "running") continue;
    const running = ctx.scheduler.running.get(executionKey(pipelineId, job.jobId));
    const broker = running && ctx.registry.brokers.get(running.broker);
    if (!broker) continue;
    for (let plan = running.plan; plan?.run?.length === 1; plan = plan.run[0]) {
      const jobId = plan.run[0]!.jobId;
      const follower = active.jobs.get(jobId);
      // A pending job's last number is its latest offer, if it had one.
      const attempt = follower?.status === "pending" ? follower.lastAttempt : undefined;
      if (attempt === undefined) break;
      ctx.outbox.toPeer(broker.address, { type: "job-cancel", pipelineId, jobId, attempt });
    }
  }
}
