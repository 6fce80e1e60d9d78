/**
 * `deno task start`: a whole local cluster from one command, in one process: a
 * Router (with its embedded store), a Pipeliner and a Broker, which spawns its worker
 * hosts. The three share the process's ZeroMQ context, so they speak the same
 * protocol to one another as ever, over inproc instead of loopback TCP; the hosts, in
 * processes of their own, reach the Router over tcp. Ctrl-C stops them all: the
 * broker first (its hosts finish their jobs), then the pipeliner, then the Router.
 *
 * @module
 */
import {
  COMMON_FLAGS,
  ROUTER_CURVE_FLAGS,
  ROUTER_ENDPOINT_FLAGS,
  runDaemon,
} from "./core/daemon.ts";
import { join } from "node:path";
import { type CurveKeys, loadOrCreateKeyFile, newCurveKeys } from "./core/curve_keys.ts";
import { intFlag } from "./core/cli.ts";
import { shareOneContext } from "./core/zmq/mod.ts";
import {
  type RouterConfig,
  routerCurve,
  start as startRouter,
  startRejoining,
} from "./router/mod.ts";
import { start as startPipeliner } from "./pipeliner/mod.ts";
import { start as startBroker } from "./broker/mod.ts";
import { startTracing } from "./core/tracing/mod.ts";

/** What `deno task start` accepts. */
const CLUSTER_SPEC = {
  usage: "deno task start",
  description:
    "Starts a local pipelinin cluster in one process: one Router, one Pipeliner and one Broker (with its worker hosts). Extra brokers and pipeliners on other machines join with `deno task start-broker --router tcp://<this host>:5555`.",
  flags: {
    ...ROUTER_ENDPOINT_FLAGS,
    http: {
      type: "string",
      description: "Router HTTP host:port (REST API and dashboard), or off",
      default: "127.0.0.1:8080",
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
        "sqlite (the embedded store, default) or postgres://user:pass@host:port/db (the Router waits for the lease, then the others start)",
      default: "sqlite",
    },
    functions: { type: "string", description: "Folder of function modules", default: "functions" },
    workers: { type: "string", description: "Broker worker slots (default: CPUs)" },
    "host-slots": {
      type: "string",
      description:
        "Slots per worker host process: they share its memory, and an out-of-memory ends all its jobs (1: a process per slot)",
      default: "4",
    },
    ...ROUTER_CURVE_FLAGS,
    ...COMMON_FLAGS,
  },
} as const;

// Before any daemon makes its context: they all get the process's one.
shareOneContext();
await runDaemon("cluster", CLUSTER_SPEC, async (flags) => {
  const workers = flags.workers === undefined ? undefined : intFlag("workers", flags.workers, 1);
  // deno-lint-ignore no-console -- the launcher's own banner
  console.log(
    `pipelinin: dashboard and REST API ${
      flags.http === "off" ? "off" : `http://${flags.http}/`
    }, ZeroMQ requests ${flags.api}, broadcast ${flags.broadcast}, store ${
      flags["data-dir"]
    }/, functions ${flags.functions}/ (Ctrl-C stops everything)`,
  );
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne();
  };
  const token = Deno.env.get("PIPELININ_TOKEN") || undefined;
  // CURVE by the Router's own rule; then the daemons here get keys of their own, made
  // in memory and let in by the Router (the worker hosts reach it over tcp).
  const wanted = flags.allow !== undefined || flags["curve-key"] !== undefined || !!token;
  if (wanted) Deno.mkdirSync(flags["data-dir"], { recursive: true });
  const own = wanted
    ? {
      broker: newCurveKeys(),
      pipeliner: newCurveKeys(),
      // On disk, 0600, for this machine's clients (`deno task demo` reads it).
      client: loadOrCreateKeyFile(join(flags["data-dir"], "client.key")),
    }
    : undefined;
  const curve = routerCurve({
    dataDir: flags["data-dir"],
    curveKey: flags["curve-key"],
    allow: flags.allow,
    token: token !== undefined,
    ...(own
      ? {
        peers: [
          { key: own.broker.publicKey, role: "broker" as const },
          { key: own.pipeliner.publicKey, role: "pipeliner" as const },
          { key: own.client.publicKey, role: "client" as const },
        ],
      }
      : {}),
  });
  const keysFor = (keys: CurveKeys | undefined) =>
    curve && keys ? { curve: { ...keys, serverKey: curve.keys.publicKey } } : {};
  try {
    // One process, three daemons: each exports its own spans, under its own service name.
    const routerTracing = await startTracing("pipelinin-router", `router-${Deno.pid}`);
    if (routerTracing) stops.push(() => routerTracing.shutdown());
    const pipelinerTracing = await startTracing("pipelinin-pipeliner", `pipeliner-${Deno.pid}`);
    if (pipelinerTracing) stops.push(() => pipelinerTracing.shutdown());
    const routerConfig: RouterConfig = {
      ...(routerTracing ? { tracing: routerTracing } : {}),
      api: flags.api,
      broadcast: flags.broadcast,
      dataDir: flags["data-dir"],
      http: flags.http,
      // The Router ships the folder to every broker, this one too.
      functionsDir: flags.functions,
      token,
      curve,
      insecure: flags.insecure,
    };
    if (/^postgres(ql)?:\/\//.test(flags.store)) {
      // Fenced, the Router halts and starts again as a standby; the pipeliner and the
      // broker follow it as after a restart.
      const router = await startRejoining({ ...routerConfig, store: flags.store });
      stops.push(() => router.stop());
      await router.active;
    } else if (flags.store === "sqlite") {
      const router = startRouter(routerConfig);
      stops.push(() => router.stop());
    } else {
      throw new RangeError(`Flag --store wants "sqlite" or "postgres://...", got "${flags.store}"`);
    }
    const pipeliner = await startPipeliner({
      router: flags.api,
      ...keysFor(own?.pipeliner),
      ...(pipelinerTracing ? { tracing: pipelinerTracing } : {}),
    });
    stops.push(() => pipeliner.stop());
    // It reads no folder of its own: one source for every function, so an edit
    // reaches it once (as shipped) and is never a conflict with itself.
    const broker = await startBroker({
      router: flags.api,
      functionsDir: null,
      workers,
      hostSlots: intFlag("host-slots", flags["host-slots"], 1),
      ...keysFor(own?.broker),
      // The Router's secret sits in this process's files: no function may read it.
      ...(curve
        ? { secretFiles: [flags["curve-key"] ?? join(flags["data-dir"], "router.key")] }
        : {}),
    });
    stops.push(() => broker.stop());
  } catch (error) {
    await stop(); // What did start, stops: no host is left behind.
    throw error;
  }
  return { stop };
});
