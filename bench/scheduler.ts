// deno-lint-ignore-file no-console -- a benchmark prints its figures
/**
 * The Router scheduler's hot path, alone: attempts of functions with no limits, all
 * of priority 0, queued, dispatched to 4 one-slot brokers and finished, as a batch of
 * the hub does. Prints ns per attempt (median of `REPS` runs of `COUNT` attempts).
 * Usage: `deno run bench/scheduler.ts [count] [reps]`.
 *
 * @module
 */
import { Registry } from "../router/hub/registry.ts";
import { executionKey, Scheduler } from "../router/hub/scheduler.ts";

const COUNT = Number(Deno.args[0] ?? 200_000);
const REPS = Number(Deno.args[1] ?? 7);
const FUNCTIONS = ["f0", "f1", "f2", "f3"];

const registry = new Registry();
for (let b = 0; b < 4; b++) {
  registry.addBroker({
    id: `b${b}`,
    address: new Uint8Array([b]),
    host: "h",
    pid: b,
    slots: 1,
    prefetch: 0,
    lastSeen: 0,
    since: 0,
  }, FUNCTIONS.map((name) => ({ name, config: { retries: 1 } })));
}
const scheduler = new Scheduler(registry);
const input = { n: 1 };

function run(count: number): number {
  const started: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i += 64) {
    // A batch: up to 64 attempts queued, dispatched into the 4 slots, those finished.
    for (let j = 0; j < 64; j++) {
      const fn = FUNCTIONS[j & 3]!;
      scheduler.enqueue({ pipelineId: `p${i + j}`, jobId: fn, fn, input, attempt: 1, priority: 0 });
    }
    while (scheduler.depth > 0) {
      scheduler.dispatch(Date.now(), (a) => {
        started.push(executionKey(a.pipelineId, a.jobId));
      });
      for (const key of started) scheduler.finish(key);
      started.length = 0;
    }
  }
  return (performance.now() - t0) * 1e6 / count;
}

run(20_000); // Warm up.
const figures = Array.from({ length: REPS }, () => run(COUNT)).sort((a, b) => a - b);
console.log(
  `scheduler, no limits, priority 0: ${figures[REPS >> 1]!.toFixed(0)} ns per attempt ` +
    `(median of ${REPS} x ${COUNT}; min ${figures[0]!.toFixed(0)}, max ${
      figures.at(-1)!.toFixed(0)
    })`,
);
