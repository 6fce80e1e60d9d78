/**
 * Where a broker fetches a job's input and saves its output: the seed's
 * `StoreClass`, as an interface. The default keeps documents in the Router's
 * embedded store (input arrives with the job, output goes back with the result),
 * so brokers on other machines need no database. `FileStore` is an example of
 * another store: one JSON file per pipeline in a folder, like the seed's
 * `SimpleFileStore`. A store error fails the job with that error.
 *
 * @module
 */
import type { JsonObject } from "../core/types.ts";

/** The job a store call is about. */
export interface StoreJob {
  /** Its pipeline. */
  readonly pipelineId: string;
  /** Its id inside the pipeline. */
  readonly jobId: string;
  /** The function it runs. */
  readonly fn: string;
  /** Its attempt number, from 1. */
  readonly attempt: number;
  /** The document as the Router sent it: the pipeline's data merged with the ancestors' outputs. */
  readonly input: JsonObject;
}

/** Fetches a job's input and saves its output. */
export interface Store {
  /** The document the job reads (before `requires` narrows it). */
  fetch(job: StoreJob): Promise<JsonObject>;
  /** Keeps the job's output; the output also goes back to the Router. */
  save(job: StoreJob, output: JsonObject): Promise<void>;
}

/** The default: documents live in the Router's embedded store. */
export class RouterStore implements Store {
  /** The input that came with the job. */
  fetch(job: StoreJob): Promise<JsonObject> {
    return Promise.resolve(job.input);
  }

  /** Nothing to do: the output travels back to the Router with the result. */
  save(): Promise<void> {
    return Promise.resolve();
  }
}

/** One JSON document per pipeline in a folder (`<dir>/<pipelineId>.json`). */
export class FileStore implements Store {
  readonly #dir: string;
  /** Saves to one file run one after another (fan-out jobs finish together). */
  readonly #queues = new Map<string, Promise<void>>();

  /** Uses `dir`, creating it on first save. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(pipelineId: string): string {
    if (!/^[\w.-]+$/.test(pipelineId) || pipelineId.startsWith(".")) {
      throw new TypeError(`Pipeline id "${pipelineId}" cannot name a file`);
    }
    return `${this.#dir}/${pipelineId}.json`;
  }

  /** The pipeline's file merged over the job's input (the file wins). */
  async fetch(job: StoreJob): Promise<JsonObject> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path(job.pipelineId));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return job.input;
      throw error;
    }
    const stored = JSON.parse(text) as unknown;
    if (typeof stored !== "object" || stored === null || Array.isArray(stored)) {
      throw new TypeError(`Store file of pipeline "${job.pipelineId}" is not a JSON object`);
    }
    return { ...job.input, ...(stored as JsonObject) };
  }

  /**
   * Merges the output into the pipeline's file, atomically (write then rename).
   * Saves within this broker are serialised per pipeline; brokers on several
   * machines sharing one folder need a store with real transactions instead.
   */
  save(job: StoreJob, output: JsonObject): Promise<void> {
    const path = this.#path(job.pipelineId);
    const previous = this.#queues.get(path) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(async () => {
      await Deno.mkdir(this.#dir, { recursive: true });
      const current = await this.fetch(job);
      const temp = `${path}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(temp, JSON.stringify({ ...current, ...output }, null, 2));
      await Deno.rename(temp, path);
    });
    this.#queues.set(path, next);
    next.finally(() => {
      if (this.#queues.get(path) === next) this.#queues.delete(path);
    }).catch(() => {});
    return next;
  }
}
