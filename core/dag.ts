/**
 * Pure DAG logic shared by the client, the Router and the Pipeliner: validating a
 * pipeline (every problem at once) and the state machine that drives it,
 * `(dag, state, event) -> { state, commands }`. No I/O.
 *
 * Validation runs in time linear in the size of the spec (plus a log factor for
 * the topological order), so the Router can check untrusted pipelines inline.
 *
 * @module
 */
import { PipelineValidationError } from "./errors.ts";
import type { ErrorData, JobStatus, JsonObject, JsonValue } from "./types.ts";
import type { JobPlan, PlannedJob } from "./protocol/mod.ts";

/** Size limits a pipeline must stay within. */
export interface PipelineLimits {
  /** Jobs in one pipeline. */
  maxJobs: number;
  /** Edges in one pipeline. */
  maxEdges: number;
  /** Characters of a job id or function name. */
  maxIdLength: number;
  /** Bytes of `data` as UTF-8 JSON. */
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
  /** Its id, unique in the pipeline. */
  readonly id: string;
  /** The function it runs. */
  readonly fn: string;
  /** Jobs that must succeed before it runs, in topological order. */
  readonly parents: readonly string[];
  /** Jobs that wait for it, in topological order. */
  readonly children: readonly string[];
}

/** A validated pipeline graph, jobs in a deterministic topological order. */
export interface Dag {
  /** Every job, parents before children; ties broken by first appearance in the spec. */
  readonly jobs: readonly DagJob[];
  /** The same jobs by id. */
  readonly byId: ReadonlyMap<string, DagJob>;
}

/**
 * Problems past this many are summed up in one last line, so a hostile spec
 * cannot make an error message of megabytes.
 */
const MAX_PROBLEMS = 100;
/** Jobs of one cycle named in its problem, at most. */
const MAX_CYCLE_SHOWN = 10;
/** Values that are not JSON reported from `data`, at most. */
const MAX_DATA_PROBLEMS = 5;

const _isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks a pipeline spec and returns its DAG.
 *
 * @param spec The pipeline as parsed JSON: `{ graph, data?, jobs? }`.
 * @param options `knownFunctions`: when given, every job's function must be in it;
 *   `limits`: overrides of {@linkcode DEFAULT_LIMITS}.
 * @returns The DAG, jobs in topological order.
 * @throws {PipelineValidationError} listing every problem found (at most 100 lines).
 */
export function validatePipeline(
  spec: unknown,
  options: { knownFunctions?: ReadonlySet<string>; limits?: Partial<PipelineLimits> } = {},
): Dag {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!_isPlainObject(spec)) {
    throw new PipelineValidationError(["The pipeline must be a JSON object"]);
  }
  const problems: string[] = [];
  for (const key of Object.keys(spec)) {
    if (key !== "graph" && key !== "data" && key !== "jobs" && key !== "deadlineMs") {
      problems.push(`Unknown field ${_quote(key)}`);
    }
  }
  if (
    spec.deadlineMs !== undefined &&
    !(Number.isInteger(spec.deadlineMs) && (spec.deadlineMs as number) > 0)
  ) {
    problems.push('Field "deadlineMs" must be a whole number of ms above 0');
  }
  const graph = _readGraph(spec.graph, limits, problems);
  if (graph.ids.length > limits.maxJobs) {
    problems.push(`The pipeline has ${graph.ids.length} jobs; the limit is ${limits.maxJobs}`);
  }
  if (graph.edgeCount > limits.maxEdges) {
    problems.push(`The pipeline has ${graph.edgeCount} edges; the limit is ${limits.maxEdges}`);
  }
  if (spec.data !== undefined) problems.push(..._dataProblems(spec.data, limits.maxDataBytes));
  const fnOf = _readJobs(spec.jobs, graph, limits, problems);
  if (options.knownFunctions) {
    const unknown = new Set<string>();
    for (const id of graph.ids) {
      const fn = fnOf.get(id) ?? id;
      if (!options.knownFunctions.has(fn)) unknown.add(fn);
    }
    for (const fn of unknown) problems.push(`Function ${_quote(fn)} is not known to any broker`);
  }
  const { sorted, cycles } = _topologicalOrder(graph.children);
  for (const cycle of cycles) {
    const names = cycle.map((i) => _quote(graph.ids[i]!));
    // A long cycle shows its first jobs only: the message must stay readable.
    if (names.length > MAX_CYCLE_SHOWN + 1) {
      names.splice(
        MAX_CYCLE_SHOWN,
        names.length - MAX_CYCLE_SHOWN - 1,
        `(${names.length - MAX_CYCLE_SHOWN - 1} more jobs)`,
      );
    }
    problems.push(`Cycle: ${names.join(" -> ")}`);
  }
  if (problems.length > 0) {
    if (problems.length > MAX_PROBLEMS) {
      const more = problems.length - (MAX_PROBLEMS - 1);
      problems.splice(MAX_PROBLEMS - 1, Infinity, `...and ${more} more problems`);
    }
    throw new PipelineValidationError(problems);
  }
  // Visiting jobs in topological order lists each one's parents and children in it too.
  const parents: string[][] = graph.ids.map(() => []);
  const children: string[][] = graph.ids.map(() => []);
  for (const from of sorted) {
    for (const to of graph.children[from]!) parents[to]!.push(graph.ids[from]!);
  }
  for (const to of sorted) {
    for (const from of parents[to]!) children[graph.index.get(from)!]!.push(graph.ids[to]!);
  }
  const jobs: DagJob[] = sorted.map((i) => {
    const id = graph.ids[i]!;
    return { id, fn: fnOf.get(id) ?? id, parents: parents[i]!, children: children[i]! };
  });
  return { jobs, byId: new Map(jobs.map((job) => [job.id, job])) };
}

/** Job ids in order of first appearance, and edges as indexes into that list. */
interface ParsedGraph {
  ids: string[];
  index: Map<string, number>;
  children: number[][];
  edgeCount: number;
  /** String ids already reported as invalid, so `jobs` does not report them again. */
  rejected: Set<string>;
}

function _readGraph(graph: unknown, limits: PipelineLimits, problems: string[]): ParsedGraph {
  const parsed: ParsedGraph = {
    ids: [],
    index: new Map(),
    children: [],
    edgeCount: 0,
    rejected: new Set(),
  };
  if (graph === undefined) {
    problems.push('Field "graph" is missing');
    return parsed;
  }
  if (!_isPlainObject(graph)) {
    problems.push('Field "graph" must be an object');
    return parsed;
  }
  const entries = Object.entries(graph);
  if (entries.length === 0) {
    problems.push('Field "graph" is empty');
    return parsed;
  }
  const childSets: Set<number>[] = [];
  const note = (id: string): number => {
    let i = parsed.index.get(id);
    if (i === undefined) {
      i = parsed.ids.length;
      parsed.ids.push(id);
      parsed.index.set(id, i);
      parsed.children.push([]);
      childSets.push(new Set());
    }
    return i;
  };
  const checkId = (id: unknown, where: string): id is string => {
    if (typeof id !== "string") {
      problems.push(`${where} must be a job id string, got ${_describe(id)}`);
      return false;
    }
    if (id.length === 0) {
      problems.push(`${where} is an empty job id`);
      parsed.rejected.add(id);
      return false;
    }
    if (id.length > limits.maxIdLength) {
      problems.push(
        `Job id ${_quote(`${id.slice(0, 40)}...`)} is longer than ${limits.maxIdLength} characters`,
      );
      parsed.rejected.add(id);
      return false;
    }
    return true;
  };
  for (const [from, value] of entries) {
    if (!checkId(from, "A graph key")) continue;
    const f = note(from);
    const targets: unknown = typeof value === "string" ? [value] : value;
    if (!Array.isArray(targets)) {
      problems.push(`The value of ${_quote(from)} must be a job id or a list of job ids`);
      continue;
    }
    for (const to of targets) {
      if (!checkId(to, `A child of ${_quote(from)}`)) continue;
      if (to === from) {
        problems.push(`Job ${_quote(from)} depends on itself`);
        continue;
      }
      const t = note(to);
      if (childSets[f]!.has(t)) continue; // The same edge twice is one edge.
      childSets[f]!.add(t);
      parsed.children[f]!.push(t);
      parsed.edgeCount++;
    }
  }
  return parsed;
}

function _readJobs(
  jobs: unknown,
  graph: ParsedGraph,
  limits: PipelineLimits,
  problems: string[],
): Map<string, string> {
  const fnOf = new Map<string, string>();
  if (jobs === undefined) return fnOf;
  if (!_isPlainObject(jobs)) {
    problems.push('Field "jobs" must map job ids to function names');
    return fnOf;
  }
  for (const [id, fn] of Object.entries(jobs)) {
    if (!graph.index.has(id) && !graph.rejected.has(id)) {
      problems.push(`Field "jobs" names ${_quote(id)}, which is not in the graph`);
    }
    if (typeof fn !== "string" || fn.length === 0) {
      problems.push(`Field "jobs" must give job ${_quote(id)} a function name`);
    } else if (fn.length > limits.maxIdLength) {
      problems.push(
        `Function name ${
          _quote(`${fn.slice(0, 40)}...`)
        } is longer than ${limits.maxIdLength} characters`,
      );
    } else fnOf.set(id, fn);
  }
  return fnOf;
}

/**
 * `data` must be a JSON object that survives `JSON.stringify` unchanged: the client
 * may hand us a `Date`, `undefined` or a `bigint`, which JSON would drop, alter or
 * throw on far from the call that caused it.
 */
function _dataProblems(data: unknown, maxBytes: number): string[] {
  if (!_isPlainObject(data)) return ['Field "data" must be a JSON object'];
  let text: string;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [`Field "data" cannot be written as JSON: ${reason}`];
  }
  const problems: string[] = [];
  const stack: Array<[unknown, string]> = [[data, "data"]];
  while (stack.length > 0 && problems.length < MAX_DATA_PROBLEMS) {
    const [value, path] = stack.pop()!;
    if (value === null || typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number" && Number.isFinite(value)) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
      continue;
    }
    if (typeof value === "object") {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        const entries = Object.entries(value);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, v] = entries[i]!;
          stack.push([
            v,
            /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${_quote(key)}]`,
          ]);
        }
        continue;
      }
    }
    problems.push(`Field "data" holds a value JSON cannot carry at ${path}: ${_describe(value)}`);
  }
  if (problems.length > 0) return problems;
  const size = new TextEncoder().encode(text).length;
  if (size > maxBytes) return [`Field "data" is ${size} bytes; the limit is ${maxBytes}`];
  return [];
}

/** Kahn's algorithm, ties broken by first appearance; then one cycle per cyclic component. */
function _topologicalOrder(
  children: readonly number[][],
): { sorted: number[]; cycles: number[][] } {
  const n = children.length;
  const waiting = new Array<number>(n).fill(0);
  for (const kids of children) for (const c of kids) waiting[c]!++;
  const ready = new _MinHeap();
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
  const sorted: number[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    sorted.push(i);
    for (const c of children[i]!) if (--waiting[c]! === 0) ready.push(c);
  }
  if (sorted.length === n) return { sorted, cycles: [] };
  // Jobs left over are on a cycle or downstream of one; only a job's own
  // strongly connected component holds its cycle.
  const left = new Array<boolean>(n).fill(true);
  for (const i of sorted) left[i] = false;
  const cycles = _components(children, left)
    .filter((component) => component.length > 1)
    .map((component) => _shortestCycle(children, component))
    .sort((a, b) => a[0]! - b[0]!);
  return { sorted, cycles };
}

/** Tarjan's strongly connected components of the `included` jobs, without recursion. */
function _components(children: readonly number[][], included: readonly boolean[]): number[][] {
  const n = children.length;
  const order = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (!included[root] || order[root] !== -1) continue;
    const frames: Array<{ v: number; next: number }> = [{ v: root, next: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const kids = children[frame.v]!;
      if (frame.next < kids.length) {
        const w = kids[frame.next++]!;
        if (!included[w]) continue;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          frames.push({ v: w, next: 0 });
        } else if (onStack[w]) low[frame.v] = Math.min(low[frame.v]!, order[w]!);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent.v] = Math.min(low[parent.v]!, low[frame.v]!);
      if (low[frame.v] === order[frame.v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== frame.v);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest cycle through the component's first-appearing job, found by BFS. */
function _shortestCycle(children: readonly number[][], component: number[]): number[] {
  const start = component.reduce((a, b) => Math.min(a, b));
  const inside = new Set(component);
  const cameFrom = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of children[v]!) {
      if (w === start) {
        const back = [start];
        for (let u = v; u !== start; u = cameFrom.get(u)!) back.push(u);
        back.push(start);
        return back.reverse();
      }
      if (inside.has(w) && !cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start]; // Unreachable: a component of two or more jobs has a cycle.
}

/** A binary min-heap of numbers, for Kahn's ready set. */
class _MinHeap {
  #items: number[] = [];
  push(value: number): void {
    const items = this.#items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (items[up]! <= value) break;
      items[i] = items[up]!;
      i = up;
    }
    items[i] = value;
  }
  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

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
  for (const job of dag.jobs) _put(status, job.id, "pending");
  return { data: mergeDocument({}, data), status, outputs: {} };
}

/**
 * The document as `jobId` sees it: `data` merged with the outputs of its succeeded
 * ancestors (not of unrelated jobs), in topological order, later keys winning.
 */
export function inputOf(dag: Dag, state: DagState, jobId: string): JsonObject {
  const mine = _ancestors(dag, jobId);
  const position = _positions(dag);
  const document = mergeDocument({}, state.data);
  for (const id of [...mine].sort((a, b) => position.get(a)! - position.get(b)!)) {
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
      if (status === "pending" || status === "running") _put(next.status, job.id, "cancelled");
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
    _put(next.status, event.jobId, "succeeded");
    _put(next.outputs, event.jobId, event.output);
    const children = dag.byId.get(event.jobId)?.children ?? [];
    if (!next.failing) candidates = children.map((id) => dag.byId.get(id)!);
  } else {
    _put(next.status, event.jobId, "failed");
    next.failing = true;
    for (const job of dag.jobs) {
      if (next.status[job.id] === "pending") _put(next.status, job.id, "skipped");
    }
  }
  for (const job of candidates) {
    if (next.status[job.id] !== "pending") continue;
    if (job.parents.every((parent) => next.status[parent] === "succeeded")) {
      _put(next.status, job.id, "running");
      commands.push({ type: "run", jobId: job.id, fn: job.fn, input: inputOf(dag, next, job.id) });
    }
  }
  if (!Object.values(next.status).includes("running")) {
    next.ended = next.failing ? "failed" : "succeeded";
    commands.push({ type: "finish", status: next.ended, document: documentOf(dag, next) });
  }
  return { state: next, commands };
}

/** Whether the DAG is one line of jobs, each after the one before: nothing to decide. */
export function isChain(dag: Dag): boolean {
  return dag.jobs.every((job, at) =>
    job.parents.length === (at === 0 ? 0 : 1) && job.children.length <= 1
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
  if (!job || depth <= 0) return undefined;
  const run: PlannedJob[] = [];
  for (const id of job.children) {
    if (dag.byId.get(id)!.parents.length === 1) {
      run.push({ jobId: id, ...planAfter(dag, id, depth - 1) });
    }
  }
  const finish = job.children.length === 0 && _ancestors(dag, jobId).size === dag.jobs.length - 1;
  if (run.length === 0 && !finish) return undefined;
  return { ...(run.length > 0 ? { run } : {}), ...(finish ? { finish } : {}) };
}

/** The ids of a job's ancestors: its parents, theirs, and so on. */
function _ancestors(dag: Dag, jobId: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(dag.byId.get(jobId)?.parents ?? [])];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    for (const parent of dag.byId.get(id)?.parents ?? []) stack.push(parent);
  }
  return seen;
}

const positions = new WeakMap<Dag, Map<string, number>>();

/** Each job's index in `dag.jobs`, computed once per DAG. */
function _positions(dag: Dag): Map<string, number> {
  let found = positions.get(dag);
  if (!found) {
    found = new Map(dag.jobs.map((job, i) => [job.id, i]));
    positions.set(dag, found);
  }
  return found;
}

/**
 * Narrows a document to the keys a function `requires`.
 *
 * @param requires The function's `config.requires`; the whole document when not given.
 */
export function restrictInput(document: JsonObject, requires?: readonly string[]): JsonObject {
  if (!requires) return document;
  const out: JsonObject = {};
  for (const key of requires) {
    if (Object.hasOwn(document, key)) _put(out, key, document[key]!);
  }
  return out;
}

const COLOURS: Readonly<Record<JobStatus, string>> = {
  pending: "white",
  running: "lightblue",
  succeeded: "palegreen",
  failed: "salmon",
  skipped: "lightgrey",
  cancelled: "khaki",
};

/**
 * Graphviz DOT text of the DAG: one box per job, labelled with its id and, where
 * it differs, its function; filled by status when `statuses` is given.
 */
export function toDot(dag: Dag, statuses?: Readonly<Record<string, JobStatus>>): string {
  const lines = [
    "digraph pipeline {",
    "  rankdir=LR;",
    "  node [shape=box, style=filled, fillcolor=white];",
  ];
  for (const job of dag.jobs) {
    const label = job.fn === job.id
      ? _dotString(job.id)
      : `${_dotString(job.id)}\\n(${_dotString(job.fn)})`;
    const status = statuses && Object.hasOwn(statuses, job.id) ? statuses[job.id] : undefined;
    const fill = status ? `, fillcolor=${COLOURS[status]}` : "";
    lines.push(`  "${_dotString(job.id)}" [label="${label}"${fill}];`);
  }
  for (const job of dag.jobs) {
    for (const child of job.children) {
      lines.push(`  "${_dotString(job.id)}" -> "${_dotString(child)}";`);
    }
  }
  lines.push("}");
  return lines.join("\n");
}

/** The inside of a DOT quoted string: a backslash or quote would end or bend it. */
function _dotString(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r");
}

function _quote(text: string): string {
  return JSON.stringify(text);
}

function _describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function" || typeof value === "symbol") return `a ${typeof value}`;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
    }
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return "a value JSON cannot carry";
  }
  return json.length > 40 ? `${json.slice(0, 40)}...` : json;
}

/**
 * Sets an own property, even `__proto__`: plain assignment would call the
 * prototype setter instead, and a job or key of that name would vanish from JSON.
 */
function _put<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** `Object.assign` for documents, safe for a `__proto__` key (see {@linkcode _put}). */
export function mergeDocument(target: JsonObject, source: JsonObject): JsonObject {
  for (const key of Object.keys(source)) _put<JsonValue>(target, key, source[key]!);
  return target;
}
