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
  const mine = ancestors(dag, jobId);
  const document = mergeDocument({}, state.data);
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
 * @returns The new state (a fresh object when anything changed) and the commands to carry out.
 */
export function step(
  dag: Dag,
  state: DagState,
  event: DagEvent,
): { state: DagState; commands: DagCommand[] } {
  const unchanged = { state, commands: [] };
  if (state.ended) return unchanged;
  const isRunning = (id: string) =>
    Object.hasOwn(state.status, id) && state.status[id] === "running";
  switch (event.type) {
    case "start":
      if (Object.values(state.status).some((s) => s !== "pending")) return unchanged;
      break;
    case "job-succeeded":
    case "job-failed":
      if (!isRunning(event.jobId)) return unchanged;
      break;
    case "cancel":
      break;
    default: {
      const never: never = event;
      throw new TypeError(`Unknown event ${JSON.stringify(never)}`);
    }
  }
  const next: DagState = { ...state, status: { ...state.status }, outputs: { ...state.outputs } };
  const commands: DagCommand[] = [];
  if (event.type === "cancel") {
    const running = dag.jobs.filter((job) => next.status[job.id] === "running").map((j) => j.id);
    for (const job of dag.jobs) {
      const status = next.status[job.id];
      if (status === "pending" || status === "running") putOwn(next.status, job.id, "cancelled");
    }
    if (running.length > 0) commands.push({ type: "cancel-running", jobIds: running });
    next.ended = "cancelled";
    commands.push({ type: "finish", status: "cancelled", document: documentOf(dag, next) });
    return { state: next, commands };
  }
  // Only jobs whose parents just changed can become ready; both lists are in
  // topological order, so the run commands are too.
  let candidates: readonly DagJob[] = [];
  if (event.type === "start") candidates = dag.jobs.filter((job) => job.parents.length === 0);
  else if (event.type === "job-succeeded") {
    putOwn(next.status, event.jobId, "succeeded");
    putOwn(next.outputs, event.jobId, event.output);
    const children = dag.byId.get(event.jobId)?.children ?? [];
    if (!next.failing) candidates = children.map((id) => dag.byId.get(id)!);
  } else {
    putOwn(next.status, event.jobId, "failed");
    next.failing = true;
    for (const job of dag.jobs) {
      if (next.status[job.id] === "pending") putOwn(next.status, job.id, "skipped");
    }
  }
  for (const job of candidates) {
    if (next.status[job.id] !== "pending") continue;
    if (job.parents.every((parent) => next.status[parent] === "succeeded")) {
      putOwn(next.status, job.id, "running");
      commands.push({ type: "run", jobId: job.id, fn: job.fn, input: inputOf(dag, next, job.id) });
    }
  }
  if (!Object.values(next.status).includes("running")) {
    next.ended = next.failing ? "failed" : "succeeded";
    commands.push({ type: "finish", status: next.ended, document: documentOf(dag, next) });
  }
  return { state: next, commands };
}
