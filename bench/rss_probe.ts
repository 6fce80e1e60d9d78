// deno-lint-ignore-file no-console -- a probe prints what it measured
/**
 * A quick memory probe of pipelinin as `bench:e2e` runs it (2 worker slots): the
 * cluster's resident memory idle, then at its peak while a few thousand jobs run (the
 * e2e client's W1, W2 and W4), per process and in all. Prints one JSON line.
 *
 * Usage: `deno run --allow-all bench/rss_probe.ts [--separate]` (`--separate`: each
 * daemon in its own process, as before `deno task start` ran them in one).
 * `PROBE_V8_FLAGS=--a,--b` runs the one-process cluster with those V8 flags instead of
 * `deno task start`'s.
 *
 * @module
 */
import { Cluster } from "../tests/_cluster.ts";
import { clusterEnv } from "../deno_flags.ts";
import { Child } from "./_lib/process.ts";
import { treeRssByPid } from "./_lib/rss.ts";

const here = new URL(".", import.meta.url).pathname;
const separate = Deno.args.includes("--separate");
const v8Flags = Deno.env.get("PROBE_V8_FLAGS");
const MB = 2 ** 20;

/** A short name for a process, from its command line. */
function label(pid: number): string {
  try {
    const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    const entry = args.find((arg) => arg.endsWith(".ts")) ?? args[0] ?? "?";
    return entry.split("/").slice(-2).join("/");
  } catch {
    return "gone";
  }
}

Deno.env.set("PIPELININ_LOG_LEVEL", "warning");
await using cluster = await Cluster.start({
  functionsDir: "bench/functions",
  workers: 2,
  waitFor: ["inc", "fan", "join"],
  oneProcess: !separate,
  ...(v8Flags === undefined ? {} : { env: { DENO_V8_FLAGS: v8Flags } }),
});
const roots = () =>
  [cluster.router, ...cluster.brokers, ...cluster.pipeliners].map((daemon) => daemon.pid);
const sum = (map: Map<number, number>) => [...map.values()].reduce((a, b) => a + b, 0);

await new Promise((resolve) => setTimeout(resolve, 2000)); // Settled after start.
const idle = treeRssByPid(roots());
const labels = new Map([...idle.keys()].map((pid) => [pid, label(pid)]));
const peak = new Map<number, number>();
let peakTotal = 0;
const sample = () => {
  const now = treeRssByPid(roots());
  for (const [pid, rss] of now) {
    peak.set(pid, Math.max(peak.get(pid) ?? 0, rss));
    if (!labels.has(pid)) labels.set(pid, label(pid));
  }
  peakTotal = Math.max(peakTotal, sum(now));
};
const timer = setInterval(sample, 100);
const figures: Record<string, number> = {};
try {
  for (const [workload, count] of [["w1", 2000], ["w2", 500], ["w4", 50]] as const) {
    const client = new Child(`client ${workload}`, Deno.execPath(), [
      "run",
      "--allow-all",
      `${here}e2e_client.ts`,
      cluster.api,
      cluster.broadcast,
      workload,
      String(count),
    ]);
    const result = JSON.parse(await client.line()) as Record<string, number>;
    if ((await client.exit()) !== 0) throw new Error(`${workload} failed`);
    for (const [key, value] of Object.entries(result)) figures[`${workload}_${key}`] = value;
  }
} finally {
  clearInterval(timer);
}
const perProcess = (map: Map<number, number>) =>
  Object.fromEntries(
    [...map].map(([pid, rss]) => [`${labels.get(pid)} ${pid}`, Math.round(rss / MB)]),
  );
console.log(JSON.stringify({
  layout: separate ? "separate" : "one process",
  v8_flags: separate ? "" : v8Flags ?? clusterEnv().DENO_V8_FLAGS,
  idle_mb: Math.round(sum(idle) / MB),
  peak_mb: Math.round(peakTotal / MB),
  idle: perProcess(idle),
  peak: perProcess(peak),
  ...figures,
}));
