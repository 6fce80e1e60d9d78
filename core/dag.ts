/**
 * Pure DAG logic shared by the client, the Router and the Pipeliner: validating a
 * pipeline (every problem at once) and the state machine that drives it,
 * `(dag, state, event) -> { state, commands }`. No I/O.
 *
 * @module
 */
import { PipelineValidationError } from "./errors.ts";
import type { ErrorData, JobStatus, JsonObject } from "./types.ts";

/** Size limits a pipeline must stay within. */
export interface PipelineLimits {
  /** Jobs in one pipeline. */
  maxJobs: number;
  /** Edges in one pipeline. */
  maxEdges: number;
  /** Characters of a job id. */
  maxIdLength: number;
  /** Bytes of `data` as JSON. */
  maxDataBytes: number;
}

/** The defaults of {@linkcode PipelineLimits}. */
export const DEFAULT_LIMITS: Readonly<PipelineLimits> = {
  maxJobs: 1000,
  maxEdges: 10_000,
  maxIdLength: 200,
  maxDataBytes: 4 * 1024 * 1024,
};

/** One job of a validated DAG. */
export interface DagJob {
  readonly id: string;
  readonly fn: string;
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

/** A validated pipeline graph, jobs in a deterministic topological order. */
export interface Dag {
  readonly jobs: readonly DagJob[];
  readonly byId: ReadonlyMap<string, DagJob>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks a pipeline and returns its DAG.
 *
 * @throws {PipelineValidationError} listing every problem found.
 */
export function validatePipeline(
  spec: unknown,
  options: { knownFunctions?: ReadonlySet<string>; limits?: Partial<PipelineLimits> } = {},
): Dag {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const problems: string[] = [];
  if (!isPlainObject(spec)) {
    throw new PipelineValidationError(["The pipeline must be a JSON object"]);
  }
  for (const key of Object.keys(spec)) {
    if (!["graph", "data", "jobs", "deadlineMs"].includes(key)) {
      problems.push(`Unknown field "${key}"`);
    }
  }
  const graph = spec.graph;
  const order: string[] = [];
  const edges = new Map<string, string[]>();
  const seen = new Set<string>();
  const note = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    order.push(id);
    edges.set(id, []);
  };
  const checkId = (id: unknown, where: string): id is string => {
    if (typeof id !== "string") {
      problems.push(`${where} must be a job id string, got ${JSON.stringify(id) ?? "undefined"}`);
      return false;
    }
    if (id.length === 0) {
      problems.push(`${where} is an empty job id`);
      return false;
    }
    if (id.length > limits.maxIdLength) {
      problems.push(
        `Job id "${id.slice(0, 40)}..." is longer than ${limits.maxIdLength} characters`,
      );
      return false;
    }
    return true;
  };
  let edgeCount = 0;
  if (graph === undefined) problems.push('Field "graph" is missing');
  else if (!isPlainObject(graph)) problems.push('Field "graph" must be an object');
  else if (Object.keys(graph).length === 0) problems.push('Field "graph" is empty');
  else {
    for (const [from, value] of Object.entries(graph)) {
      if (!checkId(from, "A graph key")) continue;
      note(from);
      const targets = typeof value === "string" ? [value] : value;
      if (!Array.isArray(targets)) {
        problems.push(`The value of "${from}" must be a job id or a list of job ids`);
        continue;
      }
      for (const to of targets) {
        if (!checkId(to, `A child of "${from}"`)) continue;
        note(to);
        const children = edges.get(from)!;
        if (to === from) problems.push(`Job "${from}" depends on itself`);
        else if (!children.includes(to)) {
          children.push(to);
          edgeCount++;
        }
      }
    }
  }
  if (order.length > limits.maxJobs) {
    problems.push(`The pipeline has ${order.length} jobs; the limit is ${limits.maxJobs}`);
  }
  if (edgeCount > limits.maxEdges) {
    problems.push(`The pipeline has ${edgeCount} edges; the limit is ${limits.maxEdges}`);
  }
  if (spec.data !== undefined) {
    if (!isPlainObject(spec.data)) problems.push('Field "data" must be a JSON object');
    else {
      const size = new TextEncoder().encode(JSON.stringify(spec.data)).length;
      if (size > limits.maxDataBytes) {
        problems.push(`Field "data" is ${size} bytes; the limit is ${limits.maxDataBytes}`);
      }
    }
  }
  if (
    spec.deadlineMs !== undefined &&
    !(Number.isInteger(spec.deadlineMs) && (spec.deadlineMs as number) > 0)
  ) {
    problems.push('Field "deadlineMs" must be a whole number of ms above 0');
  }
  const fnOf = new Map<string, string>();
  if (spec.jobs !== undefined) {
    if (!isPlainObject(spec.jobs)) problems.push('Field "jobs" must map job ids to function names');
    else {
      for (const [id, fn] of Object.entries(spec.jobs)) {
        if (!seen.has(id)) problems.push(`Field "jobs" names "${id}", which is not in the graph`);
        if (typeof fn !== "string" || fn.length === 0) {
          problems.push(`Field "jobs" must give job "${id}" a function name`);
        } else fnOf.set(id, fn);
      }
    }
  }
  if (options.knownFunctions) {
    const unknown = new Set<string>();
    for (const id of order) {
      const fn = fnOf.get(id) ?? id;
      if (!options.knownFunctions.has(fn)) unknown.add(fn);
    }
    for (const fn of unknown) problems.push(`Function "${fn}" is not known to any broker`);
  }
  // Kahn's algorithm; ties broken by first appearance.
  const parents = new Map<string, string[]>(order.map((id) => [id, []]));
  for (const [from, children] of edges) for (const to of children) parents.get(to)!.push(from);
  const remaining = new Map(order.map((id) => [id, parents.get(id)!.length]));
  const sorted: string[] = [];
  const ready = order.filter((id) => remaining.get(id) === 0);
  while (ready.length > 0) {
    const id = ready.shift()!;
    sorted.push(id);
    for (const child of edges.get(id)!) {
      const left = remaining.get(child)! - 1;
      remaining.set(child, left);
      if (left === 0) {
        // Keep first-appearance order among ready jobs.
        const at = ready.findIndex((r) => order.indexOf(r) > order.indexOf(child));
        ready.splice(at < 0 ? ready.length : at, 0, child);
      }
    }
  }
  if (sorted.length < order.length) {
    const cycle = findCycle(order.filter((id) => !sorted.includes(id)), edges);
    problems.push(`Cycle: ${cycle.map((id) => `"${id}"`).join(" -> ")}`);
  }
  if (problems.length > 0) throw new PipelineValidationError(problems);
  const jobs = sorted.map((id) => ({
    id,
    fn: fnOf.get(id) ?? id,
    parents: parents.get(id)!,
    children: edges.get(id)!,
  }));
  return { jobs, byId: new Map(jobs.map((job) => [job.id, job])) };
}

function findCycle(candidates: string[], edges: Map<string, string[]>): string[] {
  const inSet = new Set(candidates);
  const start = candidates[0]!;
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (id: string): string[] | undefined => {
    path.push(id);
    onPath.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!inSet.has(next)) continue;
      if (onPath.has(next)) return [...path.slice(path.indexOf(next)), next];
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    onPath.delete(id);
    return undefined;
  };
  for (const id of candidates) {
    const found = visit(id);
    if (found) return found;
  }
  return [start, start];
}

/** The state of one pipeline run; plain JSON, so it can be persisted. */
export interface DagState {
  /** The starting document. */
  data: JsonObject;
  /** Each job's status. */
  status: Record<string, JobStatus>;
  /** Outputs of succeeded jobs. */
  outputs: Record<string, JsonObject>;
  /** Set once the pipeline has ended. */
  ended?: "succeeded" | "failed" | "cancelled";
  /** Set when a job failed: no new job starts. */
  failing?: boolean;
}

/** What happened. */
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
  return {
    data,
    status: Object.fromEntries(dag.jobs.map((job) => [job.id, "pending" as JobStatus])),
    outputs: {},
  };
}

function ancestors(dag: Dag, jobId: string): Set<string> {
  const found = new Set<string>();
  const stack = [...(dag.byId.get(jobId)?.parents ?? [])];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (found.has(id)) continue;
    found.add(id);
    stack.push(...(dag.byId.get(id)?.parents ?? []));
  }
  return found;
}

/** The document as `jobId` sees it: data merged with its ancestors' outputs, in topological order. */
export function inputOf(dag: Dag, state: DagState, jobId: string): JsonObject {
  const mine = ancestors(dag, jobId);
  const document: JsonObject = { ...state.data };
  for (const job of dag.jobs) {
    if (mine.has(job.id) && state.outputs[job.id]) Object.assign(document, state.outputs[job.id]);
  }
  return document;
}

/** The pipeline's document: data merged with every succeeded job's output, in topological order. */
export function documentOf(dag: Dag, state: DagState): JsonObject {
  const document: JsonObject = { ...state.data };
  for (const job of dag.jobs) {
    const output = state.outputs[job.id];
    if (output) Object.assign(document, output);
  }
  return document;
}

/**
 * Applies one event. Events about unknown jobs, jobs not running, or a pipeline
 * that already ended change nothing and command nothing: results may arrive twice.
 */
export function step(
  dag: Dag,
  state: DagState,
  event: DagEvent,
): { state: DagState; commands: DagCommand[] } {
  const unchanged = { state, commands: [] };
  if (state.ended) return unchanged;
  const next: DagState = {
    ...state,
    status: { ...state.status },
    outputs: { ...state.outputs },
  };
  const commands: DagCommand[] = [];
  switch (event.type) {
    case "start":
      if (Object.values(state.status).some((s) => s !== "pending")) return unchanged;
      break;
    case "job-succeeded":
      if (next.status[event.jobId] !== "running") return unchanged;
      next.status[event.jobId] = "succeeded";
      next.outputs[event.jobId] = event.output;
      break;
    case "job-failed":
      if (next.status[event.jobId] !== "running") return unchanged;
      next.status[event.jobId] = "failed";
      next.failing = true;
      break;
    case "cancel": {
      const running = dag.jobs.filter((job) => next.status[job.id] === "running").map((j) => j.id);
      for (const job of dag.jobs) {
        if (next.status[job.id] === "pending" || next.status[job.id] === "running") {
          next.status[job.id] = "cancelled";
        }
      }
      if (running.length > 0) commands.push({ type: "cancel-running", jobIds: running });
      next.ended = "cancelled";
      commands.push({ type: "finish", status: "cancelled", document: documentOf(dag, next) });
      return { state: next, commands };
    }
    default: {
      const never: never = event;
      throw new TypeError(`Unknown event ${JSON.stringify(never)}`);
    }
  }
  if (next.failing) {
    for (const job of dag.jobs) {
      if (next.status[job.id] === "pending") next.status[job.id] = "skipped";
    }
  } else {
    for (const job of dag.jobs) {
      if (next.status[job.id] !== "pending") continue;
      if (job.parents.every((parent) => next.status[parent] === "succeeded")) {
        next.status[job.id] = "running";
        commands.push({
          type: "run",
          jobId: job.id,
          fn: job.fn,
          input: inputOf(dag, next, job.id),
        });
      }
    }
  }
  if (!Object.values(next.status).some((s) => s === "running" || s === "pending")) {
    next.ended = next.failing ? "failed" : "succeeded";
    commands.push({ type: "finish", status: next.ended, document: documentOf(dag, next) });
  }
  return { state: next, commands };
}

/** Narrows a document to the keys a function `requires` (all of it when not given). */
export function restrictInput(document: JsonObject, requires?: readonly string[]): JsonObject {
  if (!requires) return document;
  const out: JsonObject = {};
  for (const key of requires) if (key in document) out[key] = document[key]!;
  return out;
}

/** Graphviz DOT text of the DAG, optionally coloured by job status. */
export function toDot(dag: Dag, statuses?: Readonly<Record<string, JobStatus>>): string {
  const colours: Record<JobStatus, string> = {
    pending: "white",
    running: "lightblue",
    succeeded: "palegreen",
    failed: "salmon",
    skipped: "lightgrey",
    cancelled: "khaki",
  };
  const quote = (s: string) => JSON.stringify(s);
  const lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box, style=filled];"];
  for (const job of dag.jobs) {
    const label = job.fn === job.id ? job.id : `${job.id}\\n(${job.fn})`;
    const status = statuses?.[job.id];
    lines.push(
      `  ${quote(job.id)} [label="${label.replaceAll('"', '\\"')}", fillcolor=${
        status ? colours[status] : "white"
      }];`,
    );
  }
  for (const job of dag.jobs) {
    for (const child of job.children) lines.push(`  ${quote(job.id)} -> ${quote(child)};`);
  }
  lines.push("}");
  return lines.join("\n");
}
