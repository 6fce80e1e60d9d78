/**
 * What a broker hands its worker hosts, from the function registry: the table of
 * functions they serve (with each one's Web Worker permissions) and the `--allow-*`
 * flags they run with (what a host needs itself, what its store needs, and the
 * union of what the functions declare).
 *
 * @module
 */
import { collectorAddress } from "../../core/tracing/mod.ts";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServedFunction } from "../messages/host.ts";
import type { StoreSpec } from "../messages/store.ts";
import type { FunctionSources, SourcedEntry } from "./function_sources.ts";
import { hostBaseRead } from "./host_process.ts";
import { hostPermissionFlags, workerPermissions } from "./permissions.ts";

/** A job's time limit when neither the request nor the function's config sets one. */
export const DEFAULT_TIMEOUT_MS = 300_000;

/** What the hosts run: every function that loaded. */
export function servedFunctions(functions: FunctionSources): ServedFunction[] {
  return functions.list().filter((entry) => !entry.error).map((entry) =>
    servedFunction(functions, entry)
  );
}

/** What a host needs to run jobs of `entry`. */
function servedFunction(functions: FunctionSources, entry: SourcedEntry): ServedFunction {
  return {
    name: entry.name,
    config: entry.config,
    url: entry.url,
    version: entry.version,
    // Relative paths of a shipped function's config are relative to its tree's folder.
    permissions: workerPermissions(entry.config, functions.moduleRead(entry.name), entry.dir),
    timeoutMs: entry.config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** Where a broker's hosts work. */
export interface HostPlace {
  /** The broker's own functions folder, if it has one. */
  functionsDir?: string;
  /** The cache of the functions the Router ships (read only, for hosts). */
  shippedDir: string;
  /** The folder of the hosts' black boxes. */
  boxes: string;
  store?: StoreSpec;
  /** Files no host may read, whatever its functions ask for (the broker's key). */
  secrets?: readonly string[];
}

/**
 * The flags of every host: it writes its black box, reads PIPELININ_LIBZMQ, does what
 * its store needs, and what the functions that loaded declare (a union: a Web Worker
 * can only narrow its host's permissions).
 */
export function hostFlags(functions: FunctionSources, place: HostPlace): string[] {
  const loaded = functions.list().filter((entry) => !entry.error);
  const store = place.store?.permissions ?? {};
  const refused = functions.refused();
  // With tracing on, a host reads the OTEL_* variables and sends its spans to the collector.
  const collector = collectorAddress();
  return [
    ...hostPermissionFlags(
      loaded,
      {
        read: [
          ...hostBaseRead(place.functionsDir, place.shippedDir),
          ...storeRead(place.store),
          ...(store.read ?? []),
        ],
        write: [place.boxes, ...(store.write ?? [])],
        env: ["PIPELININ_LIBZMQ", ...(collector ? ["OTEL_*"] : []), ...(store.env ?? [])],
        net: [...(store.net ?? []), ...(collector ? [collector] : [])],
      },
    ),
    ...denyRead(
      [...(place.functionsDir ? refused : []), ...(place.secrets ?? [])],
      place.functionsDir ?? place.shippedDir,
    ),
  ];
}

/**
 * Entries of the functions folder that reach outside it, denied even where the folder
 * is allowed. A flag's list cannot hold a path with a comma: then the whole folder is
 * denied, and nothing serves until the entry goes (its registry log says why).
 */
function denyRead(refused: string[], functionsDir: string): string[] {
  if (refused.length === 0) return [];
  if (refused.some((path) => path.includes(","))) return [`--deny-read=${functionsDir}`];
  return [`--deny-read=${refused.join(",")}`];
}

/** The folder of a store module, which its host imports (with the module's own helpers). */
function storeRead(store: StoreSpec | undefined): string[] {
  if (!store) return [];
  const path = store.module.startsWith("file:") ? fileURLToPath(store.module) : store.module;
  return [dirname(resolve(path))];
}
