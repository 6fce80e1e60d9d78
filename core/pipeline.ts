/**
 * The client's model of a pipeline, as the seed's `Pipeline` and `Job`: a DAG of
 * jobs plus the starting document.
 *
 * @module
 */
import { type Dag, toDot, validatePipeline } from "./dag.ts";
import type { JsonObject, PipelineSpec } from "./types.ts";

/** One job: the function it runs and its id in the pipeline (default: the function name). */
export class Job {
  /** The function's name. */
  readonly fn: string;
  /** The job's id inside its pipeline. */
  readonly id: string;

  /** A job running `fn`, with id `id` (default `fn`). */
  constructor(fn: string, id: string = fn) {
    this.fn = fn;
    this.id = id;
  }
}

/** A pipeline: a DAG of jobs and its data. Validated when made. */
export class Pipeline {
  readonly #spec: PipelineSpec;
  /** The validated DAG. */
  readonly dag: Dag;

  /**
   * From a graph of job ids (`{ downloader: ["text_and_words", "links"] }`) or a
   * `Map` of {@linkcode Job}s (for a function that appears more than once). Two
   * different `Job` objects with the same id get distinct ids: the later ones are
   * suffixed `#2`, `#3`, ...
   *
   * @throws {PipelineValidationError} listing every problem.
   */
  constructor(
    graph: Record<string, string | string[]> | Map<Job, Job | Job[]>,
    options: { data?: JsonObject } = {},
  ) {
    const spec: PipelineSpec = { graph: {} };
    if (graph instanceof Map) {
      const ids = new Map<Job, string>();
      const taken = new Set<string>();
      const idOf = (job: Job) => {
        let id = ids.get(job);
        if (id) return id;
        id = job.id;
        for (let n = 2; taken.has(id); n++) id = `${job.id}#${n}`;
        taken.add(id);
        ids.set(job, id);
        return id;
      };
      const jobs: Record<string, string> = {};
      for (const [from, to] of graph) {
        const key = idOf(from);
        const children = (Array.isArray(to) ? to : [to]).map(idOf);
        spec.graph[key] = [...new Set([...(spec.graph[key] ?? []), ...children])];
      }
      for (const [job, id] of ids) if (job.fn !== id) jobs[id] = job.fn;
      if (Object.keys(jobs).length > 0) spec.jobs = jobs;
    } else {
      spec.graph = structuredClone(graph);
    }
    if (options.data !== undefined) spec.data = options.data;
    this.dag = validatePipeline(spec);
    this.#spec = spec;
  }

  /** The JSON form the Router accepts. */
  toSpec(): PipelineSpec {
    return structuredClone(this.#spec);
  }

  /** Graphviz DOT text of the DAG (as the seed printed). */
  toDot(): string {
    return toDot(this.dag);
  }
}
