/**
 * `deno task start`: a whole local cluster from one command — a Router (with its
 * embedded store), a Broker and a Pipeliner, each in its own process with its own
 * permissions. Ctrl-C stops them all.
 *
 * @module
 */
import { COMMON_FLAGS, parseOrExit, ROUTER_ENDPOINT_FLAGS } from "./core/daemon.ts";
import { DAEMON_PERMISSIONS } from "./core/daemon_permissions.ts";

const spec = {
  usage: "deno task start",
  description:
    "Starts a local pipelinin cluster: one Router, one Broker and one Pipeliner. Extra brokers and pipeliners on other machines join with `deno task start-broker --router tcp://<this host>:5555`.",
  flags: {
    ...ROUTER_ENDPOINT_FLAGS,
    http: {
      type: "string",
      description: "Router HTTP host:port (REST API and dashboard), or off",
      default: "127.0.0.1:8080",
    },
    "data-dir": {
      type: "string",
      description: "Folder of the embedded store",
      default: ".pipelinin",
    },
    functions: { type: "string", description: "Folder of function modules", default: "functions" },
    workers: { type: "string", description: "Broker worker slots (default: CPUs)" },
    ...COMMON_FLAGS,
  },
} as const;

const flags = parseOrExit(spec).values;
const root = new URL(".", import.meta.url).pathname;
const common = [
  ...(flags["log-level"] ? ["--log-level", flags["log-level"]] : []),
  ...(flags["log-format"] ? ["--log-format", flags["log-format"]] : []),
];
const children: Array<{ name: string; process: Deno.ChildProcess }> = [];

function spawn(name: string, args: string[]): Deno.ChildProcess {
  const process = new Deno.Command(Deno.execPath(), { args, cwd: Deno.cwd(), stdin: "null" })
    .spawn();
  children.push({ name, process });
  return process;
}

let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const { process } of [...children].reverse()) {
    try {
      process.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  await Promise.all(children.map(({ process }) => process.status));
  Deno.exit(code);
}

// deno-lint-ignore no-console -- the launcher's own banner
console.log(
  `pipelinin: dashboard and REST API ${
    flags.http === "off" ? "off" : `http://${flags.http}/`
  }, ZeroMQ requests ${flags.api}, broadcast ${flags.broadcast}, store ${
    flags["data-dir"]
  }/, functions ${flags.functions}/ (Ctrl-C stops everything)`,
);
spawn("router", [
  "run",
  ...DAEMON_PERMISSIONS.router,
  `${root}router/main.ts`,
  "--api",
  flags.api,
  "--broadcast",
  flags.broadcast,
  "--data-dir",
  flags["data-dir"],
  "--http",
  flags.http,
  ...common,
]);
spawn("broker", [
  "run",
  ...DAEMON_PERMISSIONS.broker,
  `${root}broker/main.ts`,
  "--router",
  flags.api,
  "--functions",
  flags.functions,
  ...(flags.workers ? ["--workers", flags.workers] : []),
  ...common,
]);
spawn("pipeliner", [
  "run",
  ...DAEMON_PERMISSIONS.pipeliner,
  `${root}pipeliner/main.ts`,
  "--router",
  flags.api,
  ...common,
]);

Deno.addSignalListener("SIGINT", () => void stopAll(0));
Deno.addSignalListener("SIGTERM", () => void stopAll(0));
// If any daemon dies, stop the rest rather than run half a cluster.
const first = await Promise.race(
  children.map(async ({ name, process }) => ({ name, status: await process.status })),
);
if (!stopping) {
  // deno-lint-ignore no-console -- the launcher reports why it stops
  console.error(
    `pipelinin: ${first.name} exited with code ${first.status.code}; stopping the rest`,
  );
  await stopAll(first.status.code || 1);
}
