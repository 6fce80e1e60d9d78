/**
 * The client's model of a pipeline, as the seed's `Pipeline` and `Job`: a DAG of
 * jobs plus the starting document.
 *
 * ```ts
 * import { Job, Pipeline } from "./pipeline.ts";
 * const byName = new Pipeline({ downloader: ["text_and_words", "links"] }, { data: { url: "u" } });
 * const fetch1 = new Job("downloader"), fetch2 = new Job("downloader");
 * const merge = new Job("merge");
 * const twice = new Pipeline(new Map([[fetch1, merge], [fetch2, merge]]));
 * twice.toSpec().graph; // { downloader: ["merge"], "downloader#2": ["merge"] }
 * ```
 *
 * @module
 */
import { type Dag, toDot, validatePipeline } from "../core/dag/mod.ts";
import type { JobOptions, JsonObject, PipelineSpec } from "../core/types.ts";

/** Options of a {@linkcode Pipeline}: its data, and when and in which order its jobs start. */
export interface PipelineOptions {
  /** The starting document. */
  data?: JsonObject;
  /** A job's function where it differs from its id, or its options (`map`, `when`, `wait`). */
  jobs?: Record<string, string | JobOptions>;
  /** From 0 to 9 (default 0): higher starts first. */
  priority?: number;
  /** Its first jobs start no earlier than this many ms after the Router accepts it. */
  delayMs?: number;
  /** Its first jobs start no earlier than this. */
  runAt?: Date | number | string;
}

/** One job: the function it runs and its id in the pipeline (default: the function name). */
export class Job {
  /** The function's name. */
  readonly fn: string;
  /** The job's id inside its pipeline. */
  readonly id: string;

  /**
   * A job running `fn`, with id `id` (default `fn`).
   *
   * @throws {TypeError} when `fn` or `id` is not a string.
   */
  constructor(fn: string, id: string = fn) {
    if (typeof fn !== "string") {
      throw new TypeError(`Job function must be a string, got ${typeof fn}`);
    }
    if (typeof id !== "string") throw new TypeError(`Job id must be a string, got ${typeof id}`);
    this.fn = fn;
    this.id = id;
  }
}

/** A pipeline: a DAG of jobs and its data. Validated when made. */
export class Pipeline {
  readonly #spec: PipelineSpec;
  /** The validated DAG, jobs in topological order. */
  readonly dag: Dag;

  /**
   * From a graph of job ids, each also the function's name
   * (`{ downloader: ["text_and_words", "links"] }`), or from a `Map` of
   * {@linkcode Job}s, which lets one function appear more than once. Each `Job`
   * object is one job. Two different `Job` objects with the same id get distinct
   * ids: the first keeps it, the later ones (in `Map` order) are suffixed `#2`,
   * `#3`, ... (skipping ids already taken).
   *
   * The pipeline is validated without knowing which functions the brokers have;
   * the Router checks that on submit.
   *
   * @param graph Edges: each key runs before each of its values.
   * @param options `data`: the starting document; copied, so later changes do not leak in.
   *   `jobs`: a job's function where it differs from its id, or its options (`map`,
   *   `when`, `wait`: see `JobOptions`).
   *   `priority` (0 to 9), `delayMs` or `runAt` (a `Date`, epoch ms or ISO 8601 text):
   *   see {@linkcode PipelineSpec}.
   * @throws {PipelineValidationError} listing every problem.
   * @throws {TypeError} when a key or value of a `Map` graph is not a `Job`.
   */
  constructor(
    graph: Record<string, string | string[]> | Map<Job, Job | Job[]>,
    options: PipelineOptions = {},
  ) {
    const spec: PipelineSpec = graph instanceof Map ? _fromJobs(graph) : { graph: _copy(graph) };
    if (options.data !== undefined) spec.data = options.data;
    if (options.jobs !== undefined) spec.jobs = { ...spec.jobs, ...options.jobs };
    if (options.priority !== undefined) spec.priority = options.priority;
    if (options.delayMs !== undefined) spec.delayMs = options.delayMs;
    if (options.runAt !== undefined) {
      spec.runAt = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
    }
    this.dag = validatePipeline(spec);
    // Valid, so plain JSON: safe to clone, and the clone cannot change under us.
    this.#spec = structuredClone(spec);
  }

  /** The JSON form the Router accepts (a fresh copy each call). */
  toSpec(): PipelineSpec {
    return structuredClone(this.#spec);
  }

  /** Graphviz DOT text of the DAG (as the seed printed). */
  toDot(): string {
    return toDot(this.dag);
  }
}

/** A shallow copy, leaving bad values in place for validation to report. */
function _copy(graph: Record<string, string | string[]>): Record<string, string | string[]> {
  const copy: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(graph)) {
    Object.defineProperty(copy, key, {
      value: Array.isArray(value) ? [...value] : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

function _fromJobs(graph: Map<Job, Job | Job[]>): PipelineSpec {
  const ids = new Map<Job, string>();
  const taken = new Set<string>();
  const idOf = (job: unknown): string => {
    if (!(job instanceof Job)) {
      throw new TypeError(`The graph Map must hold Job objects, got ${typeof job}`);
    }
    let id = ids.get(job);
    if (id !== undefined) return id;
    id = job.id;
    for (let n = 2; taken.has(id); n++) id = `${job.id}#${n}`;
    taken.add(id);
    ids.set(job, id);
    return id;
  };
  const edges = new Map<string, string[]>();
  for (const [from, to] of graph) {
    const key = idOf(from);
    const children = (Array.isArray(to) ? to : [to]).map(idOf);
    edges.set(key, [...new Set([...(edges.get(key) ?? []), ...children])]);
  }
  const spec: PipelineSpec = { graph: Object.fromEntries(edges) };
  const jobs = [...ids].filter(([job, id]) => job.fn !== id).map(([job, id]) => [id, job.fn]);
  if (jobs.length > 0) spec.jobs = Object.fromEntries(jobs);
  return spec;
}
