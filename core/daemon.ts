/**
 * What every daemon's `main.ts` does alike: parse flags with `--help`, set up
 * logging, start, and stop cleanly on SIGINT/SIGTERM.
 *
 * @module
 */
import { type CommandSpec, type FlagSpec, type FlagValues, parseCommand } from "./cli.ts";
import { getLogger, setupLogging } from "./log.ts";

/** Flags every daemon takes. */
export const COMMON_FLAGS = {
  "log-level": {
    type: "string",
    description: "trace, debug, info, warning, error or fatal (env PIPELININ_LOG_LEVEL)",
  },
  "log-format": { type: "string", description: "text or json (env PIPELININ_LOG_FORMAT)" },
} as const satisfies Record<string, FlagSpec>;

/** The Router's two ZeroMQ endpoints, for programs that start or reach a Router. */
export const ROUTER_ENDPOINT_FLAGS = {
  api: {
    type: "string",
    description: "Router request endpoint",
    default: "tcp://127.0.0.1:5555",
  },
  broadcast: {
    type: "string",
    description: "Router broadcast endpoint",
    default: "tcp://127.0.0.1:5556",
  },
} as const satisfies Record<string, FlagSpec>;

/** How a program that runs a Router sets up CURVE (see `router/curve_setup.ts`). */
export const ROUTER_CURVE_FLAGS = {
  "curve-key": {
    type: "string",
    description:
      "The Router's CURVE key pair file (deno task keygen); default <data-dir>/router.key, made when CURVE is on",
  },
  allow: {
    type: "string",
    description:
      "Allow-list of peer keys, one `<public key> <role>` a line (broker, pipeliner, client); turns CURVE on, reloaded when it changes",
  },
  insecure: {
    type: "boolean",
    description: "Bind ZeroMQ beyond loopback without CURVE (warned about at every start)",
  },
} as const satisfies Record<string, FlagSpec>;

/** How a peer of the Router (broker, pipeliner) connects with CURVE. */
export const PEER_CURVE_FLAGS = {
  "curve-key": {
    type: "string",
    description: "This peer's CURVE key pair file (deno task keygen); needs --router-key",
  },
  "router-key": {
    type: "string",
    description: "The Router's CURVE public key: the Z85 key, or a file holding it or its key pair",
  },
} as const satisfies Record<string, FlagSpec>;

/**
 * Parses `Deno.args` for a command-line program: prints `--help` and exits 0, or
 * prints a usage error and exits 2; otherwise returns the values.
 */
export function parseOrExit<F extends Record<string, FlagSpec>>(
  spec: CommandSpec<F>,
): { values: FlagValues<F>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseCommand(spec, Deno.args);
  } catch (error) {
    // deno-lint-ignore no-console -- a CLI's own usage error goes to the terminal
    console.error((error as Error).message);
    Deno.exit(2);
  }
  if (parsed.help) {
    // deno-lint-ignore no-console -- --help output is the point
    console.log(parsed.text);
    Deno.exit(0);
  }
  return parsed;
}

/**
 * Runs a daemon: parses `Deno.args` against `spec`, starts it with the values, and
 * stops it on a signal. Exits 2 on bad flags, 1 when start fails.
 */
export async function runDaemon<F extends Record<string, FlagSpec>>(
  name: string,
  spec: CommandSpec<F>,
  start: (values: FlagValues<F>) => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  const parsed = parseOrExit(spec);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  await setupLogging({
    level: values["log-level"] as string | undefined,
    format: values["log-format"] === "json" ? "json" : undefined,
  });
  const log = getLogger(name);
  let handle: { stop(): Promise<void> };
  try {
    handle = await start(parsed.values);
  } catch (error) {
    log.fatal("Could not start: {error}", { error: (error as Error).message });
    Deno.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => Deno.exit(1), 10_000);
    try {
      await handle.stop();
    } finally {
      clearTimeout(force);
    }
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
