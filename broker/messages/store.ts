/**
 * Where a worker host fetches a job's input and saves its output, when not in the
 * Router's embedded store (the default: input arrives with the job, output goes back
 * with the result, so brokers on other machines need no database). A store is a
 * module the operator names ({@linkcode StoreSpec}); each worker host imports it in
 * its own isolate (never in a function's Web Worker) and calls `fetch` before a job
 * and `save` after it. The host gets exactly the permissions the spec lists, which
 * no function gets unless it declares them itself. A store error fails the job with
 * that error. `file_store.ts` is the example shipped (`--file-store <dir>`).
 *
 * @module
 */
import type { JsonObject } from "../../core/types.ts";
import { object, record, str, strings } from "./_fields.ts";

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

/** What a store module exports: `createStore(options)`. */
export interface StoreModule {
  createStore(options: JsonObject): Store | Promise<Store>;
}

/** The permissions a store needs in the worker hosts (paths absolute). */
export interface StorePermissions {
  read?: string[];
  write?: string[];
  net?: string[];
  env?: string[];
}

/** A store, named as a module: what a broker hands each of its worker hosts. */
export interface StoreSpec {
  /** Path or `file:` URL of a module exporting `createStore(options)`. */
  module: string;
  /** Passed to `createStore`. */
  options?: JsonObject;
  /** What the hosts may do for the store; the broker must hold these itself. */
  permissions?: StorePermissions;
}

/** Parses a worker host's `--store` argument. @throws {TypeError} */
export function parseStoreSpec(value: unknown): StoreSpec {
  const m = record(value, "store");
  const permissions = m.permissions === undefined
    ? undefined
    : record(m.permissions, "permissions");
  const granted: StorePermissions = {};
  for (const kind of ["read", "write", "net", "env"] as const) {
    if (permissions?.[kind] !== undefined) granted[kind] = strings(permissions, kind);
  }
  return {
    module: str(m, "module"),
    ...(m.options === undefined ? {} : { options: object(m.options, "options") }),
    ...(permissions ? { permissions: granted } : {}),
  };
}
