/**
 * The pure state machine that drives a pipeline, `(dag, state, event) -> { state,
 * commands }`, and the documents its jobs see. No I/O: the Router and the Pipeliner
 * do it.
 *
 * @module
 */
import type { ErrorData, JobStatus, JsonObject } from "../types.ts";
import { mergeDocument, putOwn } from "../document.ts";
import type { Dag, DagJob } from "./validate.ts";
import { ancestors } from "./_graph.ts";

/** The state of one pipeline run; plain JSON, so it can be persisted. */
export interface DagState {
  /** The starting document. */
  data: JsonObject;
  /** Each job's status. */
  status: Record<string, JobStatus>;
  /** Outputs of succeeded jobs. */
  outputs: Record<string, JsonObject>;
  /** Set once the pipeline has ended; every later event is ignored. */
  ended?: "succeeded" | "failed" | "cancelled";
  /** Set when a job failed: no new job starts. */
  failing?: boolean;
}

/** What happened. `job-failed` is a final failure: retries happen before it. */
export type DagEvent =
  | { type: "start" }
  | { type: "job-succeeded"; jobId: string; output: JsonObject }
  | { type: "job-failed"; jobId: string; error: ErrorData }
  /** Its `when` did not hold: done with no output, its children run. */
  | { type: "job-skipped"; jobId: string }
  | { type: "cancel" };

/** What to do. */
export type DagCommand =
  | { type: "run"; jobId: string; fn: string; input: JsonObject }
  | { type: "finish"; status: "succeeded" | "failed" | "cancelled"; document: JsonObject }
  | { type: "cancel-running"; jobIds: string[] };

/** The state before `start`: every job pending. */
export function initialState(dag: Dag, data: JsonObject): DagState {
  const status: Record<string, JobStatus> = {};
  for (const job of dag.jobs) putOwn(status, job.id, "pending");
  return { data: mergeDocument({}, data), status, outputs: {} };
}

/**
 * The document as `jobId` sees it: `data` merged with the outputs of its succeeded
 * ancestors (not of unrelated jobs), in topological order, later keys winning.
 */
export function inputOf(dag: Dag, state: DagState, jobId: string): JsonObject {
  const document = mergeDocument({}, state.data);
  // A first job (every lone job's) has no ancestors to walk.
  if ((dag.byId.get(jobId)?.parents.length ?? 0) === 0) return document;
  const mine = ancestors(dag, jobId);
  // Most jobs have one ancestor or none (single jobs, chains' second jobs, fan-outs): no sort.
  const ordered = mine.size < 2
    ? mine
    : [...mine].sort((a, b) => dag.byId.get(a)!.index - dag.byId.get(b)!.index);
  for (const id of ordered) {
    if (Object.hasOwn(state.outputs, id)) mergeDocument(document, state.outputs[id]!);
  }
  return document;
}

/** The pipeline's document: `data` merged with every succeeded job's output, in topological order. */
export function documentOf(dag: Dag, state: DagState): JsonObject {
  const document = mergeDocument({}, state.data);
  for (const job of dag.jobs) {
    if (Object.hasOwn(state.outputs, job.id)) mergeDocument(document, state.outputs[job.id]!);
  }
  return document;
}

/**
 * Applies one event to a pipeline's state.
 *
 * Results may be delivered more than once, late, or for the wrong pipeline, so an
 * event that does not fit changes nothing and commands nothing; the very same
 * `state` object comes back. That covers: completions of unknown jobs, of jobs not
 * running (pending, already done, cancelled), a second `start`, and anything after
 * the pipeline ended.
 *
 * It runs for every job of every pipeline (the Router steps lone jobs and chains with
 * it), so it walks with loops rather than allocating arrays and closures, and copies
 * only the parts of the state an event changes (a new state shares the rest).
 *
 * @returns The new state (a fresh object when anything changed) and the commands to carry out.
 */
export function step(
  dag: Dag,
  state: DagState,
  event: DagEvent,
): { state: DagState; commands: DagCommand[] } {
  if (state.ended) return { state, commands: [] };
  switch (event.type) {
    case "start":
      for (const id in state.status) {
        if (state.status[id] !== "pending") return { state, commands: [] };
      }
      break;
    case "job-succeeded":
    case "job-failed":
    case "job-skipped":
      if (!Object.hasOwn(state.status, event.jobId) || state.status[event.jobId] !== "running") {
        return { state, commands: [] };
      }
      break;
    case "cancel":
      break;
    default: {
      const never: never = event;
      throw new TypeError(`Unknown event ${JSON.stringify(never)}`);
    }
  }
  // Outputs change only with a success: other events share them with `state`.
  const next: DagState = { ...state, status: { ...state.status } };
  const commands: DagCommand[] = [];
  if (event.type === "cancel") {
    const running: string[] = [];
    for (const job of dag.jobs) {
      const status = next.status[job.id];
      if (status === "running") running.push(job.id);
      if (status === "pending" || status === "running") putOwn(next.status, job.id, "cancelled");
    }
    if (running.length > 0) commands.push({ type: "cancel-running", jobIds: running });
    next.ended = "cancelled";
    commands.push({ type: "finish", status: "cancelled", document: documentOf(dag, next) });
    return { state: next, commands };
  }
  // Only jobs whose parents just changed can become ready; both lists are in
  // topological order, so the run commands are too.
  if (event.type === "start") {
    for (const job of dag.jobs) if (job.parents.length === 0) ready(dag, next, job, commands);
  } else if (event.type === "job-succeeded") {
    putOwn(next.status, event.jobId, "succeeded");
    next.outputs = { ...state.outputs };
    putOwn(next.outputs, event.jobId, event.output);
    const children = dag.byId.get(event.jobId)?.children;
    if (children && !next.failing) {
      for (const id of children) ready(dag, next, dag.byId.get(id)!, commands);
    }
  } else if (event.type === "job-skipped") {
    putOwn(next.status, event.jobId, "skipped");
    const children = dag.byId.get(event.jobId)?.children;
    if (children && !next.failing) {
      for (const id of children) ready(dag, next, dag.byId.get(id)!, commands);
    }
  } else {
    putOwn(next.status, event.jobId, "failed");
    next.failing = true;
    for (const job of dag.jobs) {
      if (next.status[job.id] === "pending") putOwn(next.status, job.id, "skipped");
    }
  }
  for (const id in next.status) if (next.status[id] === "running") return { state: next, commands };
  next.ended = next.failing ? "failed" : "succeeded";
  commands.push({ type: "finish", status: next.ended, document: documentOf(dag, next) });
  return { state: next, commands };
}

/** Starts `job` if it is pending and every parent succeeded (or was skipped by its `when`). */
function ready(dag: Dag, next: DagState, job: DagJob, commands: DagCommand[]): void {
  if (next.status[job.id] !== "pending") return;
  for (const parent of job.parents) {
    const status = next.status[parent];
    if (status !== "succeeded" && status !== "skipped") return;
  }
  putOwn(next.status, job.id, "running");
  commands.push({ type: "run", jobId: job.id, fn: job.fn, input: inputOf(dag, next, job.id) });
}
