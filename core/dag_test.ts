import { assert, assertEquals } from "../tests/_assert.ts";
import {
  type DagEvent,
  initialState,
  restrictInput,
  step,
  toDot,
  validatePipeline,
} from "./dag.ts";
import { PipelineValidationError } from "./errors.ts";
import type { JsonObject } from "./types.ts";

function problemsOf(spec: unknown, known?: string[]): string[] {
  try {
    validatePipeline(spec, { knownFunctions: known ? new Set(known) : undefined });
  } catch (error) {
    assert(error instanceof PipelineValidationError, String(error));
    return [...error.problems];
  }
  return [];
}

const invalid: Array<[string, unknown, string]> = [
  ["not an object", [1], "must be a JSON object"],
  ["no graph", {}, '"graph" is missing'],
  ["empty graph", { graph: {} }, '"graph" is empty'],
  ["graph not an object", { graph: "a" }, '"graph" must be an object'],
  ["bad value", { graph: { a: 3 } }, 'value of "a" must be a job id'],
  ["empty id", { graph: { a: [""] } }, "empty job id"],
  ["self edge", { graph: { a: ["a"] } }, 'Job "a" depends on itself'],
  ["cycle", { graph: { a: "b", b: "c", c: "a" } }, 'Cycle: "a" -> "b" -> "c" -> "a"'],
  ["data not object", { graph: { a: [] }, data: [1] }, '"data" must be a JSON object'],
  [
    "jobs unknown id",
    { graph: { a: [] }, jobs: { b: "x" } },
    'names "b", which is not in the graph',
  ],
  ["jobs bad fn", { graph: { a: [] }, jobs: { a: 1 } }, 'give job "a" a function name'],
  ["unknown field", { graph: { a: [] }, extra: 1 }, 'Unknown field "extra"'],
];

for (const [name, spec, expected] of invalid) {
  Deno.test(`validatePipeline rejects ${name}`, () => {
    const problems = problemsOf(spec);
    assert(problems.some((p) => p.includes(expected)), `${problems.join(" | ")}`);
  });
}

Deno.test("validatePipeline lists every problem at once", () => {
  const problems = problemsOf(
    { graph: { a: "b", b: "a", c: 5 }, data: "x", jobs: { a: "nope" } },
    ["b"],
  );
  assert(problems.length >= 4, problems.join(" | "));
  assert(problems.some((p) => p.startsWith("Cycle")));
  assert(problems.some((p) => p === 'Function "nope" is not known to any broker'));
});

Deno.test("validatePipeline enforces size limits", () => {
  const graph = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`j${i}`, []]));
  let problems: string[] = [];
  try {
    validatePipeline({ graph }, { limits: { maxJobs: 3 } });
  } catch (error) {
    problems = [...(error as PipelineValidationError).problems];
  }
  assertEquals(problems, ["The pipeline has 5 jobs; the limit is 3"]);
});

Deno.test("validatePipeline orders jobs topologically, ties by first appearance", () => {
  const dag = validatePipeline({ graph: { d: [], a: ["c", "b"], b: "e", c: "e" } });
  assertEquals(dag.jobs.map((j) => j.id), ["d", "a", "c", "b", "e"]);
  assertEquals([...dag.byId.get("e")!.parents].sort(), ["b", "c"]);
});

function run(spec: JsonObject, events: (commands: unknown[]) => DagEvent[]) {
  const dag = validatePipeline(spec);
  let state = initialState(dag, (spec.data ?? {}) as JsonObject);
  let result = step(dag, state, { type: "start" });
  const log: unknown[][] = [result.commands];
  state = result.state;
  for (const event of events(result.commands)) {
    result = step(dag, state, event);
    state = result.state;
    log.push(result.commands);
  }
  return { state, log };
}

Deno.test("a diamond runs in order and merges ancestors' outputs only", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d", c: "d" } });
  let state = initialState(dag, { x: 1 });
  let out = step(dag, state, { type: "start" });
  assertEquals(out.commands, [{ type: "run", jobId: "a", fn: "a", input: { x: 1 } }]);
  out = step(dag, out.state, { type: "job-succeeded", jobId: "a", output: { a: 1 } });
  assertEquals(out.commands.map((c) => c.type === "run" && [c.jobId, c.input]), [
    ["b", { x: 1, a: 1 }],
    ["c", { x: 1, a: 1 }],
  ]);
  out = step(dag, out.state, { type: "job-succeeded", jobId: "b", output: { b: 2 } });
  assertEquals(out.commands, []);
  out = step(dag, out.state, { type: "job-succeeded", jobId: "c", output: { c: 3, x: 9 } });
  assertEquals(out.commands, [{
    type: "run",
    jobId: "d",
    fn: "d",
    input: { x: 9, a: 1, b: 2, c: 3 },
  }]);
  state = out.state;
  out = step(dag, state, { type: "job-succeeded", jobId: "d", output: { d: 4 } });
  assertEquals(out.commands, [{
    type: "finish",
    status: "succeeded",
    document: { x: 9, a: 1, b: 2, c: 3, d: 4 },
  }]);
});

Deno.test("a failure skips jobs not started and finishes once running jobs end", () => {
  const error = { name: "Error", message: "boom", retryable: false };
  const { state, log } = run(
    { graph: { a: ["b", "c"], b: "d" } },
    (): DagEvent[] => [
      { type: "job-succeeded", jobId: "a", output: {} },
      { type: "job-failed", jobId: "b", error },
      { type: "job-succeeded", jobId: "c", output: { c: 1 } },
    ],
  );
  assertEquals(state.status, { a: "succeeded", b: "failed", c: "succeeded", d: "skipped" });
  assertEquals(log[2], []); // c still running: no finish yet
  assertEquals(log[3], [{ type: "finish", status: "failed", document: { c: 1 } }]);
});

Deno.test("duplicate, late and unknown completions change nothing", () => {
  const dag = validatePipeline({ graph: { a: "b" } });
  const started = step(dag, initialState(dag, {}), { type: "start" }).state;
  for (
    const event of [
      { type: "job-succeeded", jobId: "b", output: {} },
      { type: "job-succeeded", jobId: "zzz", output: {} },
      { type: "start" },
    ] as DagEvent[]
  ) {
    const out = step(dag, started, event);
    assertEquals(out.commands, []);
    assert(out.state === started);
  }
  const once = step(dag, started, { type: "job-succeeded", jobId: "a", output: {} });
  const twice = step(dag, once.state, { type: "job-succeeded", jobId: "a", output: { late: 1 } });
  assertEquals(twice.commands, []);
});

Deno.test("cancel marks pending and running jobs cancelled and finishes at once", () => {
  const dag = validatePipeline({ graph: { a: "b" } });
  const started = step(dag, initialState(dag, { k: 1 }), { type: "start" }).state;
  const out = step(dag, started, { type: "cancel" });
  assertEquals(out.state.status, { a: "cancelled", b: "cancelled" });
  assertEquals(out.commands, [
    { type: "cancel-running", jobIds: ["a"] },
    { type: "finish", status: "cancelled", document: { k: 1 } },
  ]);
  assertEquals(
    step(dag, out.state, { type: "job-succeeded", jobId: "a", output: {} }).commands,
    [],
  );
});

Deno.test("the state is plain JSON", () => {
  const { state } = run({ graph: { a: [] }, data: { n: 1 } }, () => []);
  assertEquals(JSON.parse(JSON.stringify(state)), state);
});

Deno.test("restrictInput keeps only the required keys", () => {
  assertEquals(restrictInput({ a: 1, b: 2 }, ["b", "c"]), { b: 2 });
  assertEquals(restrictInput({ a: 1 }), { a: 1 });
});

Deno.test("toDot draws jobs, functions where they differ, edges and status colours", () => {
  const dag = validatePipeline({ graph: { get: ["words"] }, jobs: { get: "downloader" } });
  const dot = toDot(dag, { get: "succeeded", words: "pending" });
  assert(dot.startsWith("digraph pipeline {"), dot);
  assert(dot.includes('"get" [label="get\\n(downloader)", fillcolor=palegreen];'), dot);
  assert(dot.includes('"words" [label="words", fillcolor=white];'), dot);
  assert(dot.includes('"get" -> "words";'), dot);
});
