/**
 * The Router at work on a store it owns: the hub, the ZeroMQ front (bound here), the
 * HTTP app, timers. `start` runs it on the embedded SQLite store; with PostgreSQL,
 * `router/postgres` runs it on a working copy once this Router holds the lease, and
 * can halt it at once when the lease is lost.
 *
 * @module
 */
import { Lifecycle } from "../core/lifecycle.ts";
import { getLogger, type Logger } from "../core/log.ts";
import { createApp } from "./http/app.ts";
import { serve } from "./http/serve.ts";
import { Metrics } from "./http/metrics.ts";
import { type CommitMirror, RouterHub } from "./hub/hub.ts";
import { Registry } from "./hub/registry.ts";
import type { PipelineStore } from "./hub/store.ts";
import { ZmqFront } from "./zmq_front/front.ts";
import { ShippedFunctions } from "./functions/shipped.ts";
import { Keyring } from "./zmq_front/keyring.ts";
import type { RouterConfig, RouterHandle } from "./mod.ts";

/** What runs the Router beyond its config. */
export interface ActiveDeps {
  store: PipelineStore;
  log: Logger;
  /** The PostgreSQL mirror, when the store has one. */
  mirror?: CommitMirror;
  /** Serve no HTTP here (the caller serves `app` itself). */
  noHttp?: boolean;
  /**
   * Called once every module has made its tables in the store, before pipelines
   * resume (a mirror reads the schema and installs its capture then).
   */
  tablesReady?: (store: PipelineStore) => void;
}

/** A Router at work, and how to halt it at once. */
export interface ActiveRouter {
  readonly handle: RouterHandle;
  /** Stops acting now: no batch runs, the ZeroMQ sockets close, the store closes. */
  halt(): Promise<void>;
}

/**
 * Runs the Router on `deps.store`: resumes unfinished pipelines, binds the sockets.
 * Closes the store when it throws.
 */
export function runActive(config: RouterConfig, deps: ActiveDeps): ActiveRouter {
  const { store, log } = deps;
  const lifecycle = new Lifecycle();
  const api = config.api ?? "tcp://127.0.0.1:5555";
  const broadcast = config.broadcast ?? "tcp://127.0.0.1:5556";
  const curve = config.curve;
  const keyring = curve ? new Keyring(curve.peers ?? [], curve.allowFile) : undefined;
  const heartbeatMs = config.heartbeatMs ?? 1000;
  const peerTimeoutMs = config.peerTimeoutMs ?? 3000;
  let front: ZmqFront;
  try {
    front = new ZmqFront({
      api,
      broadcast,
      log,
      maxMessageBytes: config.maxMessageBytes,
      ...(curve && keyring ? { curve: { secretKey: curve.keys.secretKey, keyring } } : {}),
      heartbeat: { intervalMs: heartbeatMs, timeoutMs: peerTimeoutMs },
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const shipped = config.functionsDir === undefined
    ? undefined
    : new ShippedFunctions(config.functionsDir, getLogger("router", "functions"));
  const hub = new RouterHub({
    ...(config.tracing ? { tracing: config.tracing } : {}),
    shipped,
    store,
    ...(deps.mirror ? { mirror: deps.mirror } : {}),
    registry: new Registry(),
    log,
    link: front,
    heartbeatMs,
    peerTimeoutMs,
    broadcast: front.broadcastEndpoint,
    options: {
      retryBaseMs: config.retryBaseMs ?? 200,
      retryMaxMs: config.retryMaxMs ?? 30_000,
      maxActive: config.maxActive,
      maxCrashes: config.maxCrashes,
      ...(config.maxDataDepth === undefined
        ? {}
        : { limits: { maxDataDepth: config.maxDataDepth } }),
    },
  });
  const metrics = new Metrics();
  hub.service.onJobFinished = (fn, status, ms) => metrics.jobFinished(fn, status, ms);
  hub.service.onLateResult = () => metrics.lateResult();
  hub.service.onAttemptEnded = (fn, outcome) => metrics.attemptEnded(fn, outcome);
  deps.tablesReady?.(store);
  const resumed = hub.service.recover();
  hub.start();
  front.start(hub);
  if (shipped) {
    shipped.onChange((manifest) => hub.batch(() => hub.peers.shippedChanged(manifest)));
    try {
      shipped.start();
    } catch (error) {
      hub.stop();
      void front.stop().then(() => store.close());
      throw error;
    }
  }
  if (config.retentionMs !== undefined) {
    const retention = config.retentionMs;
    const prune = () => {
      const pruned = hub.service.prune(retention);
      if (pruned > 0) log.info("Pruned {pruned} ended pipelines", { pruned });
      hub.later(60_000, prune);
    };
    hub.batch(prune);
  }
  const app = createApp({
    hub,
    metrics,
    log: getLogger("router", "http"),
    token: config.token,
    maxBodyBytes: config.maxBodyBytes ?? 4 * 1024 * 1024,
    maxStreams: config.maxStreams,
    ...(deps.mirror ? { role: "active" as const } : {}),
  });
  let http: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (config.http !== "off" && !deps.noHttp) {
    try {
      http = serve(app, config.http ?? "127.0.0.1:8080", log);
    } catch (error) {
      hub.stop();
      void front.stop().then(() => store.close());
      throw error;
    }
  }
  log.info(
    "Router listening: requests on {api}, broadcast on {broadcast}; resumed {resumed} pipelines",
    { api: front.apiEndpoint, broadcast: front.broadcastEndpoint, resumed },
  );
  if (curve && keyring) {
    log.info("CURVE on: the Router's public key is {key}; {count} keys allowed", {
      key: curve.keys.publicKey,
      count: keyring.size,
    });
  }
  lifecycle.started();
  let stopping: Promise<void> | undefined;
  const handle: RouterHandle = {
    api: front.apiEndpoint,
    broadcast: front.broadcastEndpoint,
    ...(curve ? { publicKey: curve.keys.publicKey } : {}),
    service: hub.service,
    registry: hub.registry,
    http: http ? `${http.addr.hostname}:${http.addr.port}` : undefined,
    app,
    get state() {
      return lifecycle.state;
    },
    stop() {
      if (lifecycle.stopping()) {
        stopping = (async () => {
          await http?.shutdown();
          await shipped?.close();
          hub.stop();
          await front.stop();
          store.close();
          lifecycle.stopped();
          log.info("Router stopped");
        })();
      }
      return stopping ?? Promise.resolve();
    },
  };
  return {
    handle,
    halt() {
      if (lifecycle.stopping()) {
        // No batch runs from here on, before anything is awaited.
        hub.stop();
        stopping = (async () => {
          await http?.shutdown();
          await shipped?.close();
          await front.stop();
          store.close();
          lifecycle.stopped();
        })();
      }
      return stopping ?? Promise.resolve();
    },
  };
}
