/**
 * What tracing costs: the same two small workloads on a cluster (separate daemons,
 * as tests start them) with tracing off and on (OTLP/HTTP JSON to a local receiver
 * that only counts), interleaved. Run under the CPU lock:
 *
 *   timeout 900 flock -o /tmp/pipelinin-cpu.lock deno run --allow-all bench/tracing_cost.ts
 *
 * @module
 */
import { Cluster } from "../tests/_cluster.ts";

const SINGLE = 1000;
const CHAINS = 200;
const ROUNDS = 2;

let spans = 0;
const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const text = await req.text();
  spans += text.split('"spanId"').length - 1;
  return Response.json({});
});
const endpoint = `http://127.0.0.1:${receiver.addr.port}`;

async function measure(traced: boolean) {
  await using cluster = await Cluster.start({
    waitFor: ["ok"],
    env: traced
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }
      : {},
  });
  const { manager } = cluster;
  // Warm-up: the first few hundred run before V8 has optimized the path.
  await Promise.all(
    Array.from(
      { length: 300 },
      (_, n) => manager.run({ graph: { ok: [] }, data: { n } }, { timeoutMs: 60_000 }),
    ),
  );
  let started = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: SINGLE },
      (_, n) => manager.run({ graph: { ok: [] }, data: { n } }, { timeoutMs: 60_000 }),
    ),
  );
  const jobsPerSecond = SINGLE / ((performance.now() - started) / 1000);
  if (results.some((r) => r.status !== "succeeded")) throw new Error("a pipeline failed");
  const latencies: number[] = [];
  for (let n = 0; n < CHAINS; n++) {
    started = performance.now();
    const r = await manager.run({
      graph: { a: "b", b: "c" },
      jobs: { a: "ok", b: "ok", c: "ok" },
      data: { n },
    }, { timeoutMs: 60_000 });
    latencies.push(performance.now() - started);
    if (r.status !== "succeeded" || r.document.n !== n + 3) throw new Error("a chain failed");
  }
  latencies.sort((x, y) => x - y);
  return {
    tracing: traced ? "on" : "off",
    singleJobsPerSecond: Math.round(jobsPerSecond),
    chainP50Ms: Number(latencies[Math.floor(CHAINS / 2)]!.toFixed(2)),
    chainP99Ms: Number(latencies[Math.floor(CHAINS * 0.99)]!.toFixed(2)),
  };
}

// `TRACING=off` measures tracing off only (to compare against another build).
const modes = Deno.env.get("TRACING") === "off" ? [false] : [false, true];
const rows = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const traced of modes) rows.push(await measure(traced));
}
// deno-lint-ignore no-console -- a benchmark prints its results
console.table(rows);
// deno-lint-ignore no-console -- a benchmark prints its results
console.log(`spans received while tracing was on: ${spans}`);
await receiver.shutdown();
