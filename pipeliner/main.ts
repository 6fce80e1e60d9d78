/**
 * `deno task start-pipeliner`: runs a pipeliner from the command line.
 *
 * @module
 */
import { COMMON_FLAGS, PEER_CURVE_FLAGS, runDaemon } from "../core/daemon.ts";
import { peerCurveKeys } from "../core/curve_keys.ts";
import { routerEndpoints } from "../core/router_endpoints.ts";
import { start } from "./mod.ts";
import { startTracing, traced } from "../core/tracing/mod.ts";

await runDaemon("pipeliner", {
  usage: "deno task start-pipeliner",
  description:
    "A pipelinin Pipeliner: drives pipelines' DAGs, asking the Router to run each job once its parents succeeded. Run as many as you like.",
  flags: {
    router: {
      type: "string",
      description:
        "The Router's request endpoint, or a comma list of every Router's (the active one is followed)",
      default: "tcp://127.0.0.1:5555",
    },
    id: { type: "string", description: "This pipeliner's id (default: host, pid, random)" },
    ...PEER_CURVE_FLAGS,
    ...COMMON_FLAGS,
  },
}, async (flags) => {
  const tracing = await startTracing("pipelinin-pipeliner", `pipeliner-${Deno.pid}`);
  return traced(tracing, () =>
    start({
      router: routerEndpoints("--router", flags.router),
      id: flags.id,
      curve: peerCurveKeys(flags["curve-key"], flags["router-key"]),
      ...(tracing ? { tracing } : {}),
    }));
});
