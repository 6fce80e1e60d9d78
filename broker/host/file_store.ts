/**
 * A store module (see `store.ts`): one JSON document per pipeline in a folder
 * (`<dir>/<pipelineId>.json`), like the seed's `SimpleFileStore`. Run in every
 * worker host of a broker, so saves to one file take a lock on it that holds
 * across those processes.
 *
 * @module
 */
import type { JsonObject } from "../../core/types.ts";
import type { Store, StoreJob } from "../messages/store.ts";

/** The store of `options.dir`. @throws {TypeError} without a `dir`. */
export function createStore(options: JsonObject): Store {
  const dir = options.dir;
  if (typeof dir !== "string" || dir === "") {
    throw new TypeError("The file store needs a folder: options.dir");
  }
  return new FileStore(dir);
}

/** One JSON document per pipeline in a folder. */
export class FileStore implements Store {
  readonly #dir: string;

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

  /**
   * The job's input, each of its keys read from the pipeline's file where the file
   * has it (the file wins). Only the input's keys: jobs of one pipeline run at once in
   * several hosts, and a job must not see what a sibling (not an ancestor) saved.
   */
  async fetch(job: StoreJob): Promise<JsonObject> {
    const file = await this.#read(job.pipelineId);
    if (file === undefined) return job.input;
    // fromEntries defines own keys, so a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.keys(job.input).map((key) => [
        key,
        Object.hasOwn(file, key) ? file[key]! : job.input[key]!,
      ]),
    );
  }

  /** The pipeline's file, or undefined when there is none yet. */
  async #read(pipelineId: string): Promise<JsonObject | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path(pipelineId));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    const stored = JSON.parse(text) as unknown;
    if (typeof stored !== "object" || stored === null || Array.isArray(stored)) {
      throw new TypeError(`Store file of pipeline "${pipelineId}" is not a JSON object`);
    }
    return stored as JsonObject;
  }

  /**
   * Merges the output into the pipeline's file, atomically (write then rename), under
   * an exclusive lock on `<file>.lock`: fan-out jobs of one pipeline finish together in
   * several hosts. Brokers on several machines sharing one folder need a store with
   * real transactions instead.
   */
  async save(job: StoreJob, output: JsonObject): Promise<void> {
    const path = this.#path(job.pipelineId);
    await Deno.mkdir(this.#dir, { recursive: true });
    using lock = await Deno.open(`${path}.lock`, { write: true, create: true });
    await lock.lock(true);
    try {
      const current = { ...job.input, ...await this.#read(job.pipelineId) };
      const temp = `${path}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(temp, JSON.stringify({ ...current, ...output }, null, 2));
      await Deno.rename(temp, path);
    } finally {
      await lock.unlock();
    }
  }
}
