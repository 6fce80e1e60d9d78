/**
 * The pipelinin client side of `deno task bench:e2e`, as its own process (like the
 * peers' clients). Usage: `e2e_client.ts <api> <broadcast> <workload> <count>`;
 * prints one JSON line. Every result is checked.
 *
 * @module
 */
import { PipelineManager } from "../mod.ts";
import type { PipelineSpec } from "../core/types.ts";

const [api, broadcast, workload, countText] = Deno.args as [string, string, string, string];
const count = Number(countText);
const manager = new PipelineManager({ api, broadcast, requestTimeoutMs: 120_000 });
const WAIT = { timeoutMs: 300_000 };
/** Chains run one after another, unmeasured, before W3 measures. */
const SEQUENTIAL_WARM_UP = 500;

const chain = (n: number): PipelineSpec => ({
  graph: { a: "b", b: "c" },
  jobs: { a: "inc", b: "inc", c: "inc" },
  data: { n },
});
const fanOut = (n: number): PipelineSpec => {
  const fans = Array.from({ length: 20 }, (_, i) => `f${i}`);
  return {
    graph: { first: fans, ...Object.fromEntries(fans.map((f) => [f, "last"])) },
    jobs: { first: "inc", last: "join", ...Object.fromEntries(fans.map((f) => [f, "fan"])) },
    data: { n },
  };
};

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Wrong result: ${what}`);
}

/** Submits every pipeline at once, each submitted and awaited in one request. */
async function runAll(specs: PipelineSpec[]) {
  return await Promise.all(specs.map((spec) => manager.run(spec, WAIT)));
}

// Unmeasured warm-up, the same as the peers' clients: 1,000 single jobs, 30 chains, 3
// fan-outs, so that what is measured is the steady state, not the JIT compiling it.
await runAll([
  ...Array.from({ length: 1000 }, (_, n): PipelineSpec => ({ graph: { inc: [] }, data: { n } })),
  ...Array.from({ length: 30 }, (_, n) => chain(n)),
  ...[0, 1, 2].map(fanOut),
]);

let result: Record<string, unknown>;
switch (workload) {
  case "w1": {
    const started = performance.now();
    const done = await runAll(
      Array.from({ length: count }, (_, n) => ({ graph: { inc: [] }, data: { n } })),
    );
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) => check(r.status === "succeeded" && r.document.n === n + 1, `w1 ${n}`));
    result = { workload, count, seconds, jobs_s: count / seconds };
    break;
  }
  case "w2": {
    const started = performance.now();
    const done = await runAll(Array.from({ length: count }, (_, n) => chain(n)));
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) => check(r.status === "succeeded" && r.document.n === n + 3, `w2 ${n}`));
    result = { workload, count, seconds, pipelines_s: count / seconds };
    break;
  }
  case "w3": {
    // And the path W3 measures, one chain after another, long enough for V8 to have
    // optimized it in every daemon (see bench/RESULTS.md); the peers do the same.
    for (let n = 0; n < SEQUENTIAL_WARM_UP; n++) {
      const [r] = await runAll([chain(n)]);
      check(r!.status === "succeeded" && r!.document.n === n + 3, `w3 warm-up ${n}`);
    }
    const latencies: number[] = [];
    for (let n = 0; n < count; n++) {
      const started = performance.now();
      const [r] = await runAll([chain(n)]);
      latencies.push(performance.now() - started);
      check(r!.status === "succeeded" && r!.document.n === n + 3, `w3 ${n}`);
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    result = {
      workload,
      count,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      mean_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    };
    break;
  }
  case "w4": {
    const started = performance.now();
    const done = await runAll(Array.from({ length: count }, (_, n) => fanOut(n)));
    const seconds = (performance.now() - started) / 1000;
    done.forEach((r, n) =>
      check(
        r.status === "succeeded" && r.document.total === 20 * (n + 2) && r.document.parts === 20,
        `w4 ${n}`,
      )
    );
    result = { workload, count, seconds, pipelines_s: count / seconds };
    break;
  }
  default:
    throw new Error(`Unknown workload "${workload}"`);
}
await manager.close();
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(result) + "\n"));
