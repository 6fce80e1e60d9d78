/**
 * The settings of a broker's pool of worker hosts, and their defaults.
 *
 * @module
 */
import type { FileFetcher } from "./shipped_tree.ts";
import type { HostLost } from "./host_lost.ts";
import type { StoreSpec } from "../messages/store.ts";
import type { WorkerLimits } from "../messages/worker.ts";
import type { JobLogMessage } from "../messages/host.ts";
import type { FunctionPermissions } from "../../core/types.ts";
import type { CurveClientKeys } from "../../core/curve_keys.ts";

/** Heap limit of each isolate in a worker host, MiB, unless `heapMb` says otherwise. */
export const DEFAULT_HEAP_MB = 256;

/** Slots per worker host process, unless `hostSlots` says otherwise. */
export const DEFAULT_HOST_SLOTS = 4;

/** Settings of a {@linkcode HostPool}. */
export interface HostPoolOptions {
  /** Caps on what the hosts' Web Workers send back; absent: the defaults. */
  limits?: WorkerLimits;
  /** The broker's own folder of function modules; none when left out. */
  functionsDir?: string;
  /** Fetches a file the Router ships, by hash (a `fetch-file` request). */
  fetchFile?: FileFetcher;
  /** Worker slots, i.e. jobs at once. */
  size: number;
  /**
   * Slots per worker host process. Default {@linkcode DEFAULT_HOST_SLOTS}. Slots of one
   * host share its memory (a process costs tens of MB) and its fate: an out-of-memory
   * ends every job running in it. 1 gives each slot a process of its own.
   */
  hostSlots?: number;
  /** Heap limit of each isolate in a host, MiB. Default {@linkcode DEFAULT_HEAP_MB}. */
  heapMb?: number;
  /** The libzmq file the hosts load, when this process knows its path. */
  libzmq?: string;
  /** The store the hosts run each job through, if not the Router's. */
  store?: StoreSpec;
  /** The most a function may ask for; see `permission_cap.ts`. */
  maxPermissions?: FunctionPermissions;
  /** Receives the log records of the hosts' jobs. */
  onJobLog?: (message: JobLogMessage) => void;
  /** Told when a host died, with the job it took down, if any. */
  onHostLost?: (lost: HostLost) => void;
  /** The CURVE keys the hosts connect to the Router with (in their first frame). */
  curve?: CurveClientKeys;
  /** Files no host may read, whatever its functions ask for. */
  secretFiles?: string[];
}

/** Where serving hosts join: see {@linkcode HostPool.serve}. */
export interface ServeTarget {
  /** The Routers' request endpoints (the active one is bound). */
  router: readonly string[];
  /** The broker's id: host `k` joins as `<id>/host-<k>`. */
  id: string;
  /** The broker's host name. */
  hostname: string;
  /** Jobs per host taken ahead of time. */
  prefetch: number;
}
