/**
 * The broker process: supervises worker host processes that run the function
 * modules of a folder in warm pools of sandboxed Web Workers. Each host takes its
 * jobs from the Router itself; the broker spawns the hosts, hands them the function
 * table, restarts them, reports a lost host, relays their logs, and announces the
 * functions to the Router (with no slot of its own).
 *
 * @module
 */
import { ErrorName } from "../../core/errors.ts";
import { Lifecycle, type LifecycleState } from "../../core/lifecycle.ts";
import { getLogger } from "../../core/log.ts";
import type { FunctionInfo, PeerEvent } from "../../core/protocol/mod.ts";
import { RouterLink } from "../../core/router_link.ts";
import { routerEndpoints } from "../../core/router_endpoints.ts";
import { libzmqFile, loadLibzmq } from "../../core/zmq/mod.ts";
import { RouterSession } from "../../core/router_session.ts";
import { readLoad } from "../messages/load.ts";
import type { StoreSpec } from "../messages/store.ts";
import type { WorkerLimits } from "../messages/worker.ts";
import { HostPool } from "./host_pool.ts";
import type { JobLogMessage } from "../messages/host.ts";
import type { FunctionPermissions } from "../../core/types.ts";
import type { CurveClientKeys } from "../../core/curve_keys.ts";

/** How long a broker waits for one shipped file, ms. */
const FETCH_TIMEOUT_MS = 10_000;

/** The most jobs per slot a broker queues ahead of time unless told otherwise. */
export const DEFAULT_PREFETCH = 64;

/** Broker settings. */
export interface BrokerConfig {
  /** Caps on what the hosts' Web Workers send back (outputs, errors, logs); absent: the defaults. */
  workerLimits?: WorkerLimits;
  /**
   * The Router's request endpoint, or those of every Router of the cluster (a list or
   * a comma list): the broker and its hosts follow whichever is active. Default
   * `tcp://127.0.0.1:5555`.
   */
  router?: string | readonly string[];
  /**
   * The broker's own folder of function modules. Default `functions`; `null`: none, it
   * serves only what the Router ships (`start-router --functions`).
   */
  functionsDir?: string | null;
  /** Worker slots (jobs at once). Default: the number of CPUs. */
  workers?: number;
  /**
   * Slots per worker host process. Default 4. Slots of one host share its memory and its
   * fate (an out-of-memory ends every job running in it); 1 isolates each slot.
   */
  hostSlots?: number;
  /**
   * The most jobs per slot taken from the Router ahead of time and queued here, so a
   * slot never waits for the Router between short jobs. The Router sends about 50 ms
   * of work per slot ahead: the full amount for trivial jobs, none for jobs of 50 ms
   * or more (which then spread over brokers). Default 64; 0 turns it off.
   */
  prefetch?: number;
  /** Heap limit of each worker host, MiB. Default 256. */
  heapMb?: number;
  /** This broker's id (its routing id). Default: host, pid and a random suffix. */
  id?: string;
  /**
   * Where job inputs come from and outputs go, as a module each worker host imports.
   * Default: the Router's embedded store (inputs come with the jobs). The broker must
   * hold the permissions the store lists, which its hosts then get.
   */
  store?: StoreSpec;
  /**
   * The most a function may ask for, as a config's `permissions` (a kind left out is
   * denied). A function that asks for more is not served; its load error says why.
   * Default: no cap.
   */
  maxPermissions?: FunctionPermissions;
  /**
   * Connect with CURVE: the Router's public key and this broker's pair, which its
   * worker hosts use too (handed over in memory, on their private channel, before any
   * user code runs). Absent: plain ZeroMQ.
   */
  curve?: CurveClientKeys;
  /** Files no worker host may read, whatever a function asks for (e.g. the key file). */
  secretFiles?: string[];
}

/** A running broker. */
export interface BrokerHandle {
  /** Its id. */
  readonly id: string;
  /** Where it is in its life. */
  readonly state: LifecycleState;
  /** Stops taking jobs, lets running ones finish (up to `graceMs`), says goodbye. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a broker: describes the functions, starts the worker hosts, joins the Router.
 *
 * @throws {LibzmqNotFoundError} when libzmq cannot be loaded.
 * @throws {Error} when a host fails to start (its error in the message), or the broker
 *   lacks a permission its store needs.
 */
export async function start(config: BrokerConfig = {}): Promise<BrokerHandle> {
  const log = getLogger("broker");
  const lifecycle = new Lifecycle();
  const id = config.id ??
    `broker-${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const router = routerEndpoints("The broker's router", config.router ?? "tcp://127.0.0.1:5555");
  const slots = config.workers ?? navigator.hardwareConcurrency;
  const prefetch = config.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 0) {
    throw new RangeError(`Prefetch must be a whole number from 0, got ${prefetch}`);
  }
  if (config.store) assertStorePermissions(config.store);
  // The hosts load the same library; one that cannot fails at start with this error.
  const libzmq = libzmqFile(loadLibzmq());
  const pool = new HostPool({
    ...(config.functionsDir === null ? {} : { functionsDir: config.functionsDir ?? "functions" }),
    // Files the Router ships: fetched one by one, checked against their hash by the pool.
    fetchFile: (sha256) => link.request({ type: "fetch-file", sha256 }, FETCH_TIMEOUT_MS),
    size: slots,
    ...(config.hostSlots === undefined ? {} : { hostSlots: config.hostSlots }),
    heapMb: config.heapMb,
    libzmq,
    store: config.store,
    maxPermissions: config.maxPermissions,
    ...(config.curve ? { curve: config.curve } : {}),
    ...(config.secretFiles ? { secretFiles: config.secretFiles } : {}),
    ...(config.workerLimits ? { limits: config.workerLimits } : {}),
    onJobLog: ({ fn, jobId, pipelineId, record }: JobLogMessage) =>
      log[record.level](`[${fn}] ${record.message}`, { ...record.fields, jobId, pipelineId }),
    onHostLost: (lost) => {
      // A host stopped by a signal (Ctrl-C reaches the whole process group) is no news.
      const level = lost.error.name === ErrorName.JobCancelled ? "info" : "warn";
      log[level]("Worker host {host} ended: {error}", {
        host: lost.host,
        error: lost.error.message,
      });
      link.send({ type: "host-lost", ...lost }).catch(() => {});
    },
  });

  await pool.start();
  const functions = (): FunctionInfo[] =>
    pool.functions.list().map((fn) => ({
      name: fn.name,
      config: fn.config,
      ...(fn.error ? { error: fn.error } : {}),
      source: fn.source,
      ...(fn.conflict ? { conflict: fn.conflict } : {}),
    }));

  const onEvent = (event: PeerEvent) => {
    switch (event.type) {
      case "hello-again":
        void session.join();
        return;
      case "error":
        log.warn("The Router rejected a message: {error}", { error: event.error.message });
        return;
      case "functions-manifest":
        pool.ship(event);
        return;
      case "job-run":
      case "job-cancel":
      case "pipeline-assign":
      case "job-result":
      case "pipeline-cancel":
        // Jobs go to the hosts, which joined as slots of their own.
        log.warn("Unexpected {type} for a broker", { type: event.type });
        return;
      default:
        return assertNever(event);
    }
  };

  const link = new RouterLink({
    api: router,
    routingId: id,
    ...(config.curve ? { curve: config.curve } : {}),
    onEvent,
    onProtocolError: (error) =>
      log.warn("Malformed message from the Router: {error}", { error: error.message }),
  });

  const session = new RouterSession({
    link,
    log,
    // The hosts are the slots; the broker itself announces the functions it keeps
    // them running (so they count as served while a host restarts), with no slot.
    hello: () => ({
      type: "broker-hello",
      broker: { id, host: Deno.hostname(), pid: Deno.pid, slots: 0, prefetch },
      functions: functions(),
    }),
    status: () => ({ type: "broker-status", load: readLoad(0, 0, pool.pids) }),
    joined: `Broker ${id} joined the Router; its ${slots} slots in ${pool.hosts} worker ${
      pool.hosts === 1 ? "host" : "hosts"
    } take the jobs`,
  });

  pool.functions.onChange(() => {
    if (!lifecycle.running) return;
    log.info("Functions changed: {names}", { names: functions().map((f) => f.name).join(", ") });
    link.send({ type: "broker-functions", functions: functions() }).catch(() => {});
  });

  await session.join();
  pool.serve({ router, id, hostname: Deno.hostname(), prefetch });
  lifecycle.started();
  return {
    id,
    get state() {
      return lifecycle.state;
    },
    async stop(graceMs = 5000) {
      if (!lifecycle.stopping()) return;
      await pool.drain(graceMs); // The hosts finish theirs and leave the Router.
      await session.stop();
      await link.close();
      await pool.close();
      lifecycle.stopped();
      log.info("Broker stopped");
    },
  };
}

/** The broker grants its hosts only what it holds itself. @throws {Error} naming the flag. */
function assertStorePermissions(store: StoreSpec): void {
  for (const kind of ["read", "write", "net", "env"] as const) {
    for (const target of store.permissions?.[kind] ?? []) {
      const descriptor: Deno.PermissionDescriptor = kind === "net"
        ? { name: "net", host: target }
        : kind === "env"
        ? { name: "env", variable: target }
        : { name: kind, path: target };
      if (Deno.permissions.querySync(descriptor).state !== "granted") {
        throw new Error(
          `The store needs ${kind} access to "${target}": run the broker with --allow-${kind}=${target}`,
        );
      }
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled ${JSON.stringify(value)}`);
}
