import { assertEquals } from "../../tests/_assert.ts";
import {
  initialState,
  inputOf,
  isChain,
  PLAN_DEPTH,
  planAfter,
  PlanLedger,
  validatePipeline,
} from "./mod.ts";

Deno.test("planAfter plans the children whose only parent a job is, and the end after the last job", () => {
  const chain = validatePipeline({ graph: { a: "b", b: "c" } });
  assertEquals(planAfter(chain, "a"), {
    run: [{ jobId: "b", run: [{ jobId: "c", finish: true }] }],
  });
  assertEquals(planAfter(chain, "c"), { finish: true });
  // A fan-in waits for the pipeliner; the end after it is planned with it.
  const fan = validatePipeline({ graph: { first: ["x", "y"], x: "last", y: "last" } });
  assertEquals(planAfter(fan, "first"), { run: [{ jobId: "x" }, { jobId: "y" }] });
  assertEquals(planAfter(fan, "x"), undefined);
  assertEquals(planAfter(fan, "last"), { finish: true });
  // Two sinks: neither ends the pipeline alone.
  const split = validatePipeline({ graph: { a: ["b", "c"] } });
  assertEquals(planAfter(split, "b"), undefined);
  // The plan's input is the job's input merged with its output: inputOf for the child.
  const state = { ...initialState(chain, { n: 1 }), outputs: { a: { n: 2, a: true } } };
  assertEquals(inputOf(chain, state, "b"), { ...inputOf(chain, state, "a"), n: 2, a: true });
  // A long chain's plan stops PLAN_DEPTH jobs ahead.
  const ids = Array.from({ length: 50 }, (_, i) => `j${i}`);
  const long = validatePipeline({
    graph: Object.fromEntries(ids.slice(0, -1).map((id, i) => [id, ids[i + 1]!])),
  });
  let depth = 0;
  for (let plan = planAfter(long, "j0"); plan?.run; plan = plan.run[0]) depth++;
  assertEquals(depth, PLAN_DEPTH);
});

Deno.test("isChain holds for one job and a line of jobs, not for a fork, a fan-in or two lines", () => {
  const chain = (graph: Record<string, string | string[]>) => isChain(validatePipeline({ graph }));
  assertEquals(chain({ a: [] }), true);
  assertEquals(chain({ a: "b", b: "c", c: "d" }), true);
  assertEquals(chain({ a: ["b", "c"] }), false);
  assertEquals(chain({ a: "c", b: "c" }), false);
  assertEquals(chain({ a: "b", c: "d" }), false);
  assertEquals(chain({ a: [], b: [] }), false);
});

Deno.test("a plan ledger answers once for each planned job, and says when a plan ends the pipeline", () => {
  const ledger = new PlanLedger();
  assertEquals([ledger.takes("b"), ledger.ends], [false, false]);
  ledger.note({ run: [{ jobId: "b", run: [{ jobId: "c", finish: true }] }] });
  assertEquals([ledger.takes("b"), ledger.takes("b"), ledger.takes("c"), ledger.ends], [
    true,
    false,
    true,
    true,
  ]);
  assertEquals(ledger.takes("a"), false);
});
