/**
 * The Router: the one central point of a pipelinin cluster. It keeps pipelines and
 * jobs in an embedded store, hands pipelines to pipeliners and jobs to brokers. With
 * `startReplicated`, the state lives in PostgreSQL: one Router is active, the others
 * stand by to take over; `startRejoining` starts a fenced one again, as a standby.
 *
 * ```ts
 * import { start } from "./router/mod.ts";
 * const router = await start({ dataDir: ".pipelinin" });
 * // ... later
 * await router.stop();
 * ```
 *
 * @module
 */
import type { Hono } from "hono";
import type { LifecycleState } from "../core/lifecycle.ts";
import { getLogger } from "../core/log.ts";
import type { PipelineService } from "./hub/pipelines/service.ts";
import type { Registry } from "./hub/registry.ts";
import { type Durability, PipelineStore } from "./hub/store.ts";
import { checkRouterConfig } from "./exposure.ts";
import { runActive } from "./active_router.ts";
import type { RouterCurve } from "./curve_setup.ts";
import type { Tracing } from "../core/tracing/mod.ts";

export type { RouterCurve } from "./curve_setup.ts";
export { startReplicated } from "./postgres/replicated.ts";
export { type RejoiningRouter, startRejoining } from "./postgres/rejoin.ts";
export type { ReplicatedConfig, ReplicatedRouter, Role } from "./postgres/replicated.ts";
export { routerCurve } from "./curve_setup.ts";
export type { AllowEntry, PeerRole } from "./zmq_front/allow_list.ts";

/** Router settings; every field has a default. */
export interface RouterConfig {
  /** ZeroMQ request endpoint to bind. Default `tcp://127.0.0.1:5555`. */
  api?: string;
  /** ZeroMQ broadcast endpoint to bind. Default `tcp://127.0.0.1:5556`. */
  broadcast?: string;
  /** Folder of the embedded store. Default `.pipelinin`. */
  dataDir?: string;
  /** How often peers report, ms. Default 1000. */
  heartbeatMs?: number;
  /** A peer silent this long is declared dead, ms. Default 3000. */
  peerTimeoutMs?: number;
  /** First retry delay, ms. Default 200. */
  retryBaseMs?: number;
  /** Longest retry delay, ms. Default 30,000. */
  retryMaxMs?: number;
  /** Store durability. Default `process`. */
  durability?: Durability;
  /** HTTP `host:port` to bind, or `off`. Default `127.0.0.1:8080`. */
  http?: string;
  /** Bearer token the HTTP front wants (all routes but `/health`). Default: none. */
  token?: string;
  /** Largest HTTP body, bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Event streams (SSE) open at once, at most; more get 503. Default 1,000. */
  maxStreams?: number;
  /** Pipelines not yet ended, at most; more are refused (HTTP 429). Default 100,000. */
  maxActive?: number;
  /** A job that crashed its worker process this often fails as poison. Default 3. */
  maxCrashes?: number;
  /** The largest ZeroMQ message read, bytes (-1: no cap). Default 64 MiB. */
  maxMessageBytes?: number;
  /** How deep a submitted pipeline's `data` may nest. Default 64. */
  maxDataDepth?: number;
  /**
   * Characters of log lines (messages and fields) kept per job attempt; past it one
   * line says how much was cut. Default 1 MiB.
   */
  maxLogChars?: number;
  /** Ended pipelines older than this (ms), and their jobs' logs, are pruned every minute. Default: kept. */
  retentionMs?: number;
  /**
   * A folder of function modules the Router ships to every broker (read and hashed,
   * never run here), watched for changes. Default: none.
   */
  functionsDir?: string;
  /**
   * CURVE on both ZeroMQ sockets, with a ZAP handler letting in the allowed keys only
   * (see `routerCurve`). Absent: plain ZeroMQ, which binds loopback only unless `insecure`.
   */
  curve?: RouterCurve;
  /** Bind ZeroMQ beyond loopback without CURVE; warned about at every start. */
  insecure?: boolean;
  /** Spans of each pipeline (see `core/tracing`); the caller shuts it down. Default: none. */
  tracing?: Tracing;
}

/** A running Router. */
export interface RouterHandle {
  /** The request endpoint actually bound. */
  readonly api: string;
  /** The broadcast endpoint actually bound. */
  readonly broadcast: string;
  /** The Router's CURVE public key (Z85), when CURVE is on. */
  readonly publicKey?: string;
  /** The pipeline service (for the HTTP front). */
  readonly service: PipelineService;
  /** The registry of brokers and pipeliners. */
  readonly registry: Registry;
  /** The HTTP address actually bound, when HTTP is on. */
  readonly http?: string;
  /** The HTTP app (call `app.request()` in tests without a socket). */
  readonly app: Hono;
  /** Where the Router is in its life. */
  readonly state: LifecycleState;
  /** Stops serving and closes the store. */
  stop(): Promise<void>;
}

/**
 * Starts a Router on its embedded SQLite store: opens the store, resumes unfinished
 * pipelines, binds the sockets. (With PostgreSQL, see `startReplicated`.)
 *
 * @throws {ZmqError} when an endpoint cannot be bound (e.g. `EADDRINUSE`).
 * @throws {Error} when it would expose plain ZeroMQ or unguarded HTTP beyond loopback,
 *   or its allow-list is malformed (naming the line).
 */
export function start(config: RouterConfig = {}): RouterHandle {
  const log = getLogger("router");
  checkRouterConfig(config, log);
  const store = PipelineStore.open(config.dataDir ?? ".pipelinin", {
    durability: config.durability,
    maxLogChars: config.maxLogChars,
  });
  return runActive(config, { store, log }).handle;
}
