import { assert, assertEquals } from "../../tests/_assert.ts";
import { initialState, isChain, planAfter, step, validatePipeline } from "./mod.ts";
import { PipelineValidationError } from "../errors.ts";

function problemsOf(spec: unknown, known?: string[]): string[] {
  try {
    validatePipeline(spec, known ? { knownFunctions: new Set(known) } : {});
  } catch (error) {
    assert(error instanceof PipelineValidationError, String(error));
    return [...error.problems];
  }
  return [];
}

Deno.test("job options are read into the DAG; a wait job runs no function", () => {
  const dag = validatePipeline({
    graph: { links: "fetch", fetch: "approve", approve: "report" },
    jobs: {
      fetch: { fn: "download", map: "links", mapConcurrency: 4 },
      approve: { wait: "approved", timeoutMs: 1000 },
      report: { when: { path: "ok", op: "eq", value: true } },
    },
  }, { knownFunctions: new Set(["links", "download", "report"]) });
  assertEquals(dag.byId.get("fetch")?.fn, "download");
  assertEquals(dag.byId.get("fetch")?.options, { fn: "download", map: "links", mapConcurrency: 4 });
  assertEquals(dag.byId.get("approve")?.fn, "");
  assertEquals(dag.byId.get("report")?.fn, "report");
  assertEquals(dag.byId.get("links")?.options, undefined);
  // A job with options is the Router's to decide: no chain, nothing planned around it.
  assertEquals(isChain(dag), false);
  assertEquals(planAfter(dag, "links"), undefined);
  assertEquals(planAfter(dag, "fetch"), undefined);
});

Deno.test("invalid job options are refused with every problem listed", () => {
  assertEquals(
    problemsOf({
      graph: { a: ["b", "c", "d", "e", "a[2]"] },
      jobs: {
        a: { map: "" },
        b: { wait: "has space", fn: "x", map: "k", timeoutMs: 0 },
        c: { mapConcurrency: 2, timeoutMs: 5, colour: "red" },
        d: { map: "k", mapConcurrency: 0, when: { path: "x", op: "near", value: 1 } },
        e: { fn: "" },
      },
    }, ["a", "b", "c", "d", "e", "a[2]", "x"]),
    [
      `Job "a"'s "map" must be a document key of 1 to 200 characters, got ""`,
      `Job "b"'s "wait" must be a signal name of 1 to 100 letters, digits or "_.:-", got "has space"`,
      `Job "b" waits for a signal and runs no "fn"`,
      `Job "b" waits for a signal and cannot "map"`,
      `Job "b"'s "timeoutMs" must be a whole number of ms from 1 to 2592000000`,
      `Job "c" has an unknown option "colour"`,
      `Job "c"'s "timeoutMs" applies only to a "wait" job`,
      `Job "c"'s "mapConcurrency" applies only with "map"`,
      `Job "d"'s "mapConcurrency" must be a whole number from 1 to 10000`,
      `Job "d"'s "when".op must be one of "eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"`,
      `Field "jobs" must give job "e" a function name`,
    ],
  );
});

Deno.test("an item's id is taken: a job named like one is refused", () => {
  assertEquals(problemsOf({ graph: { a: "a[3]" }, jobs: { a: { map: "k" } } }), [
    `Job id "a[3]" is taken by the items of map job "a"`,
  ]);
  assertEquals(problemsOf({ graph: { a: "a[3]" } }), []);
});

Deno.test("a wait job needs no broker to serve a function", () => {
  assertEquals(problemsOf({ graph: { w: "b" }, jobs: { w: { wait: "go" } } }, ["b"]), []);
  assertEquals(problemsOf({ graph: { w: "b" }, jobs: { w: { fn: "nope" } } }, ["b"]), [
    `Function "nope" is not known to any broker`,
  ]);
});

Deno.test("a skipped job counts as done with no output: its children run", () => {
  const dag = validatePipeline({
    graph: { a: "b", b: "c" },
    jobs: { b: { when: { path: "go", op: "exists" } } },
  });
  let state = initialState(dag, { x: 1 });
  ({ state } = step(dag, state, { type: "start" }));
  ({ state } = step(dag, state, { type: "job-succeeded", jobId: "a", output: { a: 1 } }));
  const skipped = step(dag, state, { type: "job-skipped", jobId: "b" });
  assertEquals(skipped.state.status.b, "skipped");
  assertEquals(skipped.commands, [{ type: "run", jobId: "c", fn: "c", input: { x: 1, a: 1 } }]);
  const end = step(dag, skipped.state, { type: "job-succeeded", jobId: "c", output: { c: 1 } });
  assertEquals(end.commands, [{
    type: "finish",
    status: "succeeded",
    document: { x: 1, a: 1, c: 1 },
  }]);
  // A second report of the skip changes nothing.
  assertEquals(step(dag, skipped.state, { type: "job-skipped", jobId: "b" }).commands, []);
});
