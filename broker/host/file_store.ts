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
      const current = await this.fetch(job);
      const temp = `${path}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(temp, JSON.stringify({ ...current, ...output }, null, 2));
      await Deno.rename(temp, path);
    } finally {
      await lock.unlock();
    }
  }
}
