/**
 * Checking a pipeline spec: every problem at once, in time linear in the size of the
 * spec (plus a log factor for the topological order), so the Router can check
 * untrusted pipelines inline.
 *
 * @module
 */
import { PipelineValidationError } from "../errors.ts";
import { topologicalOrder } from "./_order.ts";
import { dataProblems, describe, quote } from "./_data.ts";
import { readJobEntry } from "./job_options.ts";
import type { JobOptions } from "../types.ts";
import { timingProblems } from "./timing.ts";

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
  /** Levels of nesting in `data` (`data` itself is level 1). */
  maxDataDepth: number;
  /** Items of one `map` job: a longer list fails the job when it is ready (`MapInputError`). */
  maxMapItems: number;
}

/** The defaults of {@linkcode PipelineLimits}. */
export const DEFAULT_LIMITS: Readonly<PipelineLimits> = {
  maxJobs: 1000,
  maxEdges: 10_000,
  maxIdLength: 200,
  maxDataBytes: 4 * 1024 * 1024,
  maxDataDepth: 64,
  maxMapItems: 100_000,
};

/** The size of the encoded message each spec came in (see {@linkcode noteEncodedSize}). */
const encodedSizes = new WeakMap<object, number>();

/**
 * Notes that `spec` was parsed from a message of `bytes` bytes, so validating it
 * takes that as the bound of its `data`'s size instead of encoding `data` again. The
 * edges that parse submits (the wire protocol, HTTP) call it.
 */
export function noteEncodedSize(spec: object, bytes: number): void {
  encodedSizes.set(spec, bytes);
}

/** One job of a validated DAG. */
export interface DagJob {
  /** Its id, unique in the pipeline. */
  readonly id: string;
  /** The function it runs; empty for a `wait` job, which runs none. */
  readonly fn: string;
  /** Its `map`, `when` and `wait` options; undefined for a plain job (most jobs). */
  readonly options: JobOptions | undefined;
  /** Jobs that must succeed before it runs, in topological order. */
  readonly parents: readonly string[];
  /** Jobs that wait for it, in topological order. */
  readonly children: readonly string[];
  /** Its place in {@linkcode Dag.jobs} (topological order), to sort jobs without a lookup table. */
  readonly index: number;
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

const SPEC_FIELDS = new Set([
  "graph",
  "data",
  "jobs",
  "deadlineMs",
  "priority",
  "delayMs",
  "runAt",
]);

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
  options: {
    knownFunctions?: Pick<ReadonlySet<string>, "has">;
    limits?: Partial<PipelineLimits>;
  } = {},
): Dag {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!_isPlainObject(spec)) {
    throw new PipelineValidationError(["The pipeline must be a JSON object"]);
  }
  const problems: string[] = [];
  for (const key of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(key)) problems.push(`Unknown field ${quote(key)}`);
  }
  timingProblems(spec, problems);
  if (
    spec.deadlineMs !== undefined &&
    !(typeof spec.deadlineMs === "number" && Number.isInteger(spec.deadlineMs) &&
      spec.deadlineMs > 0)
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
  if (spec.data !== undefined) {
    const dataLimits = { maxBytes: limits.maxDataBytes, maxDepth: limits.maxDataDepth };
    problems.push(...dataProblems(spec.data, dataLimits, encodedSizes.get(spec)));
  }
  const { fnOf, optionsOf } = _readJobs(spec.jobs, graph, limits, problems);
  if (optionsOf.size > 0) _itemIdProblems(graph.ids, optionsOf, problems);
  if (options.knownFunctions) {
    const unknown = new Set<string>();
    for (const id of graph.ids) {
      if (optionsOf.get(id)?.wait !== undefined) continue;
      const fn = fnOf.get(id) ?? id;
      if (!options.knownFunctions.has(fn)) unknown.add(fn);
    }
    for (const fn of unknown) problems.push(`Function ${quote(fn)} is not known to any broker`);
  }
  const { sorted, cycles } = topologicalOrder(graph.children);
  for (const cycle of cycles) {
    const names = cycle.map((i) => quote(graph.ids[i]!));
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
    const jobOptions = optionsOf.get(id);
    const fn = jobOptions?.wait !== undefined ? "" : fnOf.get(id) ?? id;
    return { id, fn, options: jobOptions, parents: parents[i]!, children: children[i]!, index: i };
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
      problems.push(`${where} must be a job id string, got ${describe(id)}`);
      return false;
    }
    if (id.length === 0) {
      problems.push(`${where} is an empty job id`);
      parsed.rejected.add(id);
      return false;
    }
    if (id.length > limits.maxIdLength) {
      problems.push(
        `Job id ${quote(`${id.slice(0, 40)}...`)} is longer than ${limits.maxIdLength} characters`,
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
      problems.push(`The value of ${quote(from)} must be a job id or a list of job ids`);
      continue;
    }
    for (const to of targets) {
      if (!checkId(to, `A child of ${quote(from)}`)) continue;
      if (to === from) {
        problems.push(`Job ${quote(from)} depends on itself`);
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
): { fnOf: Map<string, string>; optionsOf: Map<string, JobOptions> } {
  const fnOf = new Map<string, string>();
  const optionsOf = new Map<string, JobOptions>();
  if (jobs === undefined) return { fnOf, optionsOf };
  if (!_isPlainObject(jobs)) {
    problems.push('Field "jobs" must map job ids to function names or job options');
    return { fnOf, optionsOf };
  }
  for (const [id, entry] of Object.entries(jobs)) {
    if (!graph.index.has(id) && !graph.rejected.has(id)) {
      problems.push(`Field "jobs" names ${quote(id)}, which is not in the graph`);
    }
    const { fn, options, waits } = readJobEntry(id, entry, limits.maxIdLength, problems);
    if (fn !== undefined) fnOf.set(id, fn);
    if (options) optionsOf.set(id, waits && options.wait === undefined ? { wait: "" } : options);
  }
  return { fnOf, optionsOf };
}

/**
 * The items of map job `x` run as `x[0]`, `x[1]`, ...: a job of the graph with such
 * an id would be mistaken for one of them.
 */
function _itemIdProblems(
  ids: readonly string[],
  optionsOf: ReadonlyMap<string, JobOptions>,
  problems: string[],
): void {
  for (const id of ids) {
    const match = /^(.*)\[(\d+)\]$/s.exec(id);
    if (match && optionsOf.get(match[1]!)?.map !== undefined) {
      problems.push(`Job id ${quote(id)} is taken by the items of map job ${quote(match[1]!)}`);
    }
  }
}
