/**
 * `deno task start-router`: runs the Router from the command line.
 *
 * @module
 */
import { duration, intFlag } from "../core/cli.ts";
import { COMMON_FLAGS, ROUTER_CURVE_FLAGS, runDaemon } from "../core/daemon.ts";
import { type RouterConfig, routerCurve, start, startRejoining } from "./mod.ts";
import { startTracing, traced } from "../core/tracing/mod.ts";

await runDaemon("router", {
  usage: "deno task start-router",
  description:
    "The pipelinin Router: the cluster's central point. Stores pipelines and jobs in an embedded database and hands them to pipeliners and brokers.",
  flags: {
    api: {
      type: "string",
      description: "ZeroMQ request endpoint to bind",
      default: "tcp://127.0.0.1:5555",
    },
    broadcast: {
      type: "string",
      description: "ZeroMQ broadcast endpoint to bind",
      default: "tcp://127.0.0.1:5556",
    },
    "data-dir": {
      type: "string",
      description:
        "Folder of the embedded store (with --store postgres://..., of its working copy)",
      default: ".pipelinin",
    },
    store: {
      type: "string",
      description:
        "sqlite (the embedded store, default) or postgres://user:pass@host:port/db: the state on PostgreSQL, one active Router and any number of standbys",
      default: "sqlite",
    },
    advertise: {
      type: "string",
      description:
        "With PostgreSQL: the request endpoint peers reach this Router at, as standbys report it (default: --api)",
    },
    "lease-ms": {
      type: "string",
      description: "With PostgreSQL: how long the active Router's lease holds, ms",
      default: "5000",
    },
    "heartbeat-ms": { type: "string", description: "How often peers report, ms", default: "1000" },
    "peer-timeout-ms": {
      type: "string",
      description: "A silent peer is declared dead after this, ms",
      default: "3000",
    },
    "retry-base-ms": {
      type: "string",
      description: "First retry delay, ms (doubles each attempt)",
      default: "200",
    },
    "retry-max-ms": { type: "string", description: "Longest retry delay, ms", default: "30000" },
    http: {
      type: "string",
      description: "HTTP host:port for the REST API and dashboard, or off",
      default: "127.0.0.1:8080",
    },
    "max-body-bytes": {
      type: "string",
      description: "Largest HTTP body, bytes",
      default: "4194304",
    },
    "max-streams": {
      type: "string",
      description: "Event streams (SSE) open at once, at most (more get HTTP 503)",
      default: "1000",
    },
    "max-active": {
      type: "string",
      description: "Pipelines not yet ended, at most (more get HTTP 429)",
      default: "100000",
    },
    "max-crashes": {
      type: "string",
      description: "A job that crashed its worker process this often fails as poison",
      default: "3",
    },
    "max-message-bytes": {
      type: "string",
      description: "Largest ZeroMQ message read, bytes (-1: no cap)",
      default: "67108864",
    },
    "max-data-depth": {
      type: "string",
      description: "How deep a submitted pipeline's data may nest",
      default: "64",
    },
    "max-log-chars": {
      type: "string",
      description:
        "Characters of log lines (messages and fields) kept per job attempt; past it one line says how much was cut",
      default: "1048576",
    },
    retention: {
      type: "string",
      description: "Prune ended pipelines older than this (e.g. 30m, 12h, 7d); default: keep",
    },
    durability: {
      type: "string",
      description: "process (survives kill -9) or power (fsync each commit)",
      default: "process",
    },
    functions: {
      type: "string",
      description:
        "A folder of function modules to ship to every broker (watched; read and hashed, never run here)",
    },
    ...ROUTER_CURVE_FLAGS,
    ...COMMON_FLAGS,
  },
}, async (flags) => {
  if (flags.durability !== "process" && flags.durability !== "power") {
    throw new RangeError(`Flag --durability wants "process" or "power", got "${flags.durability}"`);
  }
  const durability = flags.durability;
  const token = Deno.env.get("PIPELININ_TOKEN") || undefined;
  const curve = routerCurve({
    dataDir: flags["data-dir"],
    curveKey: flags["curve-key"],
    allow: flags.allow,
    token: token !== undefined,
  });
  const tracing = await startTracing("pipelinin-router", `router-${Deno.pid}`);
  const postgres = /^postgres(ql)?:\/\//.test(flags.store);
  if (!postgres && flags.store !== "sqlite") {
    throw new RangeError(`Flag --store wants "sqlite" or "postgres://...", got "${flags.store}"`);
  }
  const config: RouterConfig = {
    ...(tracing ? { tracing } : {}),
    curve,
    insecure: flags.insecure,
    api: flags.api,
    broadcast: flags.broadcast,
    dataDir: flags["data-dir"],
    heartbeatMs: intFlag("heartbeat-ms", flags["heartbeat-ms"], 10),
    peerTimeoutMs: intFlag("peer-timeout-ms", flags["peer-timeout-ms"], 10),
    retryBaseMs: intFlag("retry-base-ms", flags["retry-base-ms"], 0),
    retryMaxMs: intFlag("retry-max-ms", flags["retry-max-ms"], 0),
    durability,
    http: flags.http,
    token,
    maxBodyBytes: intFlag("max-body-bytes", flags["max-body-bytes"], 1),
    maxStreams: intFlag("max-streams", flags["max-streams"], 1),
    maxActive: intFlag("max-active", flags["max-active"], 1),
    maxCrashes: intFlag("max-crashes", flags["max-crashes"], 1),
    maxMessageBytes: flags["max-message-bytes"] === "-1"
      ? -1
      : intFlag("max-message-bytes", flags["max-message-bytes"], 1024),
    maxDataDepth: intFlag("max-data-depth", flags["max-data-depth"], 1),
    maxLogChars: intFlag("max-log-chars", flags["max-log-chars"], 0),
    retentionMs: flags.retention === undefined ? undefined : duration("retention", flags.retention),
    functionsDir: flags.functions,
  };
  if (!postgres) return traced(tracing, () => start(config));
  // Fenced, it halts and starts again as a standby by itself (see router/postgres/rejoin.ts).
  const router = await startRejoining({
    ...config,
    store: flags.store,
    leaseMs: intFlag("lease-ms", flags["lease-ms"], 100),
    ...(flags.advertise ? { advertise: flags.advertise } : {}),
  });
  return traced(tracing, () => router);
});
