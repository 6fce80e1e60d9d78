/**
 * `deno task tasks`: writes `deno.json`'s tasks that start daemons from the flags
 * each daemon keeps in its folder, so `deno.json` never spells them out by hand.
 * `tests/deno_tasks_test.ts` fails when `deno.json` and this source disagree.
 *
 * @module
 */
import { brokerFlags } from "./broker/deno_flags.ts";
import { clusterEnv, clusterFlags } from "./deno_flags.ts";
import { PIPELINER_FLAGS } from "./pipeliner/deno_flags.ts";
import { ROUTER_FLAGS } from "./router/deno_flags.ts";

/**
 * A task is one fixed line, so it names the black-box folder for the default `TMPDIR`;
 * with another `TMPDIR`, run `broker/main.ts` with `broker/deno_flags.ts`'s flags.
 */
const TASK_BOXES_DIR = "/tmp/pipelinin-hosts";

/** The daemon-starting tasks, by name, as `deno.json` must have them. */
export function daemonTasks(): Record<string, string> {
  const run = (flags: readonly string[], entry: string, env: Record<string, string> = {}) => {
    const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    return [...assignments, "deno run", ...flags, entry].join(" ");
  };
  const broker = brokerFlags(TASK_BOXES_DIR);
  return {
    start: run(clusterFlags(broker), "main.ts", clusterEnv()),
    "start-router": run(ROUTER_FLAGS, "router/main.ts"),
    "start-broker": run(broker, "broker/main.ts"),
    "start-pipeliner": run(PIPELINER_FLAGS, "pipeliner/main.ts"),
  };
}

/** `text` (a `deno.json`) with its daemon tasks replaced, other tasks kept in place. */
export function withDaemonTasks(text: string): string {
  const config = JSON.parse(text) as { tasks?: Record<string, string> };
  config.tasks = { ...config.tasks, ...daemonTasks() };
  return `${JSON.stringify(config, null, 2)}\n`;
}

if (import.meta.main) {
  const file = new URL("./deno.json", import.meta.url);
  const before = await Deno.readTextFile(file);
  const after = withDaemonTasks(before);
  if (after !== before) await Deno.writeTextFile(file, after);
  // deno-lint-ignore no-console -- a tool says what it did
  console.log(after === before ? "deno.json: tasks up to date" : "deno.json: tasks written");
}
