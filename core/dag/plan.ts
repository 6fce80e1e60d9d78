/**
 * What a pipeliner decides ahead for the Router: whether a DAG is a plain chain, and
 * the steps to take by themselves once a job succeeds.
 *
 * @module
 */
import type { JobPlan, PlannedJob } from "../protocol/mod.ts";
import type { Dag } from "./validate.ts";
import { ancestors } from "./_graph.ts";

/**
 * Whether the DAG is one line of plain jobs, each after the one before: nothing to
 * decide. A job with options (`map`, `when`, `wait`) is decided by the Router when it
 * is asked for, so its pipeline has a pipeliner.
 */
export function isChain(dag: Dag): boolean {
  return dag.jobs.every((job, at) =>
    job.parents.length === (at === 0 ? 0 : 1) && job.children.length <= 1 &&
    job.options === undefined
  );
}

/** How deep a {@linkcode planAfter} looks: a plan of a long chain stays small. */
export const PLAN_DEPTH = 8;

/**
 * What may happen by itself once `jobId` succeeds: its children whose only parent it
 * is start (input: its input merged with its output, exactly {@linkcode inputOf} for
 * such a child), and so on down to {@linkcode PLAN_DEPTH} levels; and when every other
 * job is its ancestor, the pipeline ends (the same merge is then {@linkcode documentOf}).
 * Undefined when nothing can.
 */
export function planAfter(dag: Dag, jobId: string, depth = PLAN_DEPTH): JobPlan | undefined {
  const job = dag.byId.get(jobId);
  // A job with options ends by the Router's decision, not a broker's result: nothing follows it by itself.
  if (!job || depth <= 0 || job.options !== undefined) return undefined;
  const run: PlannedJob[] = [];
  for (const id of job.children) {
    const child = dag.byId.get(id)!;
    if (child.parents.length === 1 && child.options === undefined) {
      run.push({ jobId: id, ...planAfter(dag, id, depth - 1) });
    }
  }
  const finish = job.children.length === 0 && ancestors(dag, jobId).size === dag.jobs.length - 1;
  if (run.length === 0 && !finish) return undefined;
  return { ...(run.length > 0 ? { run } : {}), ...(finish ? { finish } : {}) };
}

/**
 * What the plans sent for one pipeline already take care of: the jobs they start and
 * whether one ends the pipeline. Whoever steps the DAG (a pipeliner, or the Router
 * for a chain) does not take those steps again when `step()` commands them.
 */
export class PlanLedger {
  /** Made with the first planned job: most plans of a chain start one. */
  #jobs: Set<string> | undefined;
  #ends = false;

  /** Notes a plan that went out with a job, and the plans nested in it. */
  note(plan: JobPlan): void {
    if (plan.finish) this.#ends = true;
    for (const job of plan.run ?? []) {
      (this.#jobs ??= new Set()).add(job.jobId);
      this.note(job);
    }
  }

  /** Whether a plan starts `jobId`; the answer is given once (the run is then taken). */
  takes(jobId: string): boolean {
    return this.#jobs?.delete(jobId) ?? false;
  }

  /** Whether a plan ends the pipeline when its last job succeeds. */
  get ends(): boolean {
    return this.#ends;
  }
}
