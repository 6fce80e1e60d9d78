/**
 * Pipelines the Router drives itself: one job, or a chain (each job after the one
 * before), have no order to decide, so no pipeliner takes part and they cost no
 * message to one. They are driven as a pipeliner drives any DAG, through the pure
 * `step()` of `core/dag.ts`: its `run` commands queue jobs, its `finish` ends the
 * pipeline. As a pipeliner does, the Router plans each job's success ahead (the next
 * job starts, the last one's success ends the pipeline, see `plans.ts`), and then
 * does not take again what `step()` commands for those.
 *
 * @module
 */
import {
  type Dag,
  type DagCommand,
  type DagEvent,
  type DagJob,
  type DagState,
  initialState,
  planAfter,
  PlanLedger,
  step,
} from "../../../core/dag/mod.ts";
import type { JobOutcome, JobPlan, JobRecord } from "../../../core/protocol/mod.ts";
import type { ErrorData, JsonObject } from "../../../core/types.ts";
import { recordedOutcome } from "./attempts.ts";
import { type Active, end, jobFailure, type Pipelines, skipPending } from "./context.ts";
import { enqueue } from "./jobs.ts";

/** The state of a pipeline the Router drives itself. */
export interface Direct {
  readonly dag: Dag;
  state: DagState;
  /**
   * What the plans sent with its jobs take care of: `step()`'s `run` of a planned job
   * and its `finish` after a planned end are not taken again. Made with the first
   * plan: a lone job has none.
   */
  plans: PlanLedger | undefined;
}

const START: DagEvent = { type: "start" };

/**
 * The DAGs of lone jobs, by function then job id, shared by every pipeline of that one
 * job: a DAG is never changed once validated, and one per pipeline (its arrays and its
 * Map) held for as long as the job runs, thousands at once, was most of what the
 * garbage collector had to move and copy. Bounded: job ids are the client's.
 */
const loneDags = new Map<string, Map<string, Dag>>();
const MAX_LONE_DAGS = 1024;

/** The state of a direct pipeline before its start. */
export function directOf(dag: Dag, data: JsonObject): Direct {
  const shared = dag.jobs.length === 1 ? loneDag(dag.jobs[0]!, dag) : dag;
  return { dag: shared, state: initialState(shared, data), plans: undefined };
}

/** The DAG of a one-job pipeline, from its stored job (after a restart: nothing to validate). */
export function oneJobDag(job: Pick<JobRecord, "jobId" | "fn">): Dag {
  return loneDag({ id: job.jobId, fn: job.fn });
}

/** The shared DAG of a lone job; `made` (that job's DAG) is kept when there is none yet. */
function loneDag(job: Pick<DagJob, "id" | "fn">, made?: Dag): Dag {
  let byId = loneDags.get(job.fn);
  const found = byId?.get(job.id);
  if (found) return found;
  if (!byId || byId.size >= MAX_LONE_DAGS) {
    if (loneDags.size >= MAX_LONE_DAGS) loneDags.clear();
    byId = new Map();
    loneDags.set(job.fn, byId);
  }
  const only = { id: job.id, fn: job.fn, options: undefined, parents: [], children: [], index: 0 };
  const dag = made ?? { jobs: [only], byId: new Map([[only.id, only]]) };
  byId.set(job.id, dag);
  return dag;
}

/**
 * Starts a direct pipeline: its first job is queued. After a restart, a job that had
 * ended is taken as its outcome (a store from before direct pipelines, whose
 * pipeliner had not ended it yet), which ends the pipeline.
 */
export function startDirect(ctx: Pipelines, active: Active): void {
  apply(ctx, active, START);
}

/** A job of a direct pipeline ended for good (succeeded, or failed after its retries). */
export function directResult(
  ctx: Pipelines,
  active: Active,
  job: JobRecord,
  outcome: JobOutcome,
): void {
  if (outcome.ok) {
    apply(ctx, active, { type: "job-succeeded", jobId: job.jobId, output: outcome.output });
  } else {
    const error = job.error ?? outcome.error;
    apply(
      ctx,
      active,
      { type: "job-failed", jobId: job.jobId, error },
      jobFailure(job.jobId, error),
    );
  }
}

/**
 * The plan of a chain's job when a plan starts it, made afresh (a plan reaches only
 * PLAN_DEPTH jobs ahead) and remembered, so `step()` does not start its jobs again.
 */
export function replan(direct: Direct, jobId: string): JobPlan {
  const plan = planAfter(direct.dag, jobId);
  if (!plan) return {};
  (direct.plans ??= new PlanLedger()).note(plan);
  return plan;
}

/** Steps the DAG and carries out its commands; `failure` is the pipeline's error if it fails. */
function apply(ctx: Pipelines, active: Active, event: DagEvent, failure?: ErrorData): void {
  const direct = active.direct!;
  const { state, commands } = step(direct.dag, direct.state, event);
  direct.state = state;
  for (const command of commands) execute(ctx, active, direct, command, failure);
}

function execute(
  ctx: Pipelines,
  active: Active,
  direct: Direct,
  command: DagCommand,
  failure: ErrorData | undefined,
): void {
  switch (command.type) {
    case "run": {
      if (direct.plans?.takes(command.jobId)) return; // A plan started it.
      const job = active.jobs.get(command.jobId);
      if (!job) return;
      const recorded = recordedOutcome(job);
      if (recorded) return directResult(ctx, active, job, recorded);
      if (job.status !== "pending") return;
      // A plan that only ends the pipeline is not sent with the job: the step of its
      // success ends the pipeline in the same batch. A lone job has no other plan.
      const plan = direct.dag.jobs.length > 1 ? planAfter(direct.dag, job.jobId) : undefined;
      const sent = plan?.run ? plan : undefined;
      if (sent) (direct.plans ??= new PlanLedger()).note(sent);
      return enqueue(ctx, active, job, command.input, sent);
    }
    case "finish":
      if (command.status === "succeeded") {
        if (!direct.plans?.ends) end(ctx, active, "succeeded", command.document);
        return;
      }
      skipPending(ctx, active);
      if (failure) active.record.error = failure;
      return end(ctx, active, command.status, command.document);
    case "cancel-running":
      return; // Never stepped: a cancel stops running jobs and ends the pipeline itself.
    default: {
      const never: never = command;
      throw new TypeError(`Unhandled command ${JSON.stringify(never)}`);
    }
  }
}
