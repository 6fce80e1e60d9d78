import { assert, assertEquals } from "../../tests/_assert.ts";
import {
  type Dag,
  type DagCommand,
  type DagEvent,
  type DagState,
  initialState,
  step,
  validatePipeline,
} from "./mod.ts";
import type { ErrorData, JsonObject } from "../types.ts";

/** Starts a pipeline and applies events one by one, keeping each step's commands. */
function play(dag: Dag, data: JsonObject, events: DagEvent[]) {
  let state = initialState(dag, data);
  const log: DagCommand[][] = [];
  for (const event of [{ type: "start" } as const, ...events]) {
    const out = step(dag, state, event);
    state = out.state;
    log.push(out.commands);
  }
  return { state, log };
}

const ok = (jobId: string, output: JsonObject = {}): DagEvent => ({
  type: "job-succeeded",
  jobId,
  output,
});
const boom: ErrorData = { name: "Error", message: "boom", retryable: false };
const fail = (jobId: string): DagEvent => ({ type: "job-failed", jobId, error: boom });
const runs = (commands: DagCommand[]) =>
  commands.map((c) => c.type === "run" ? [c.jobId, c.fn, c.input] : c.type);

Deno.test("the tutorial runs the downloader, then both consumers on its output", () => {
  const dag = validatePipeline({ graph: { downloader: ["text_and_words", "links"] } });
  const { state, log } = play(dag, { url: "u" }, [
    ok("downloader", { html: "<a>" }),
    ok("links", { links: ["x"] }),
    ok("text_and_words", { words: 1 }),
  ]);
  assertEquals(log, [
    [{ type: "run", jobId: "downloader", fn: "downloader", input: { url: "u" } }],
    [
      {
        type: "run",
        jobId: "text_and_words",
        fn: "text_and_words",
        input: { url: "u", html: "<a>" },
      },
      { type: "run", jobId: "links", fn: "links", input: { url: "u", html: "<a>" } },
    ],
    [],
    [{
      type: "finish",
      status: "succeeded",
      document: { url: "u", html: "<a>", links: ["x"], words: 1 },
    }],
  ]);
  assertEquals(state.status, {
    downloader: "succeeded",
    text_and_words: "succeeded",
    links: "succeeded",
  });
  assertEquals(state.ended, "succeeded");
});

Deno.test("a diamond's last job sees every ancestor, merged in topological order", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d", c: "d" } });
  const { log } = play(dag, { x: 0, k: "data" }, [
    ok("a", { a: 1, k: "a" }),
    ok("c", { c: 3, k: "c", x: 9 }), // c ends first but comes after b in topological order
    ok("b", { b: 2, k: "b" }),
    ok("d", { d: 4 }),
  ]);
  assertEquals(runs(log[1]!), [["b", "b", { x: 0, k: "a", a: 1 }], ["c", "c", {
    x: 0,
    k: "a",
    a: 1,
  }]]);
  assertEquals(log[2], []);
  assertEquals(runs(log[3]!), [["d", "d", { x: 9, k: "c", a: 1, b: 2, c: 3 }]]);
  assertEquals(log[4], [{
    type: "finish",
    status: "succeeded",
    document: { x: 9, k: "c", a: 1, b: 2, c: 3, d: 4 },
  }]);
});

Deno.test("a job does not see the output of a sibling that is not its ancestor", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d" } });
  const { log } = play(dag, {}, [ok("a", { a: 1 }), ok("c", { c: 3 }), ok("b", { b: 2 })]);
  assertEquals(runs(log[3]!), [["d", "d", { a: 1, b: 2 }]]);
});

Deno.test("one function appearing twice runs as two jobs", () => {
  const dag = validatePipeline({
    graph: { page1: "merge", page2: "merge" },
    jobs: { page1: "downloader", page2: "downloader" },
    data: { n: 0 },
  });
  const { log } = play(dag, { n: 0 }, [ok("page2", { p2: 1 }), ok("page1", { p1: 1 })]);
  assertEquals(runs(log[0]!), [["page1", "downloader", { n: 0 }], ["page2", "downloader", {
    n: 0,
  }]]);
  assertEquals(log[1], []);
  assertEquals(runs(log[2]!), [["merge", "merge", { n: 0, p1: 1, p2: 1 }]]);
});

Deno.test("a failure skips jobs not started and finishes once running jobs end", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d", c: "e" } });
  const { state, log } = play(dag, { k: 0 }, [ok("a", { a: 1 }), fail("b"), ok("c", { c: 1 })]);
  assertEquals(log[2], []); // c still running: no finish yet
  assertEquals(state.status, {
    a: "succeeded",
    b: "failed",
    c: "succeeded",
    d: "skipped",
    e: "skipped", // c's result is recorded but starts nothing
  });
  assertEquals(log[3], [{ type: "finish", status: "failed", document: { k: 0, a: 1, c: 1 } }]);
  assertEquals(state.ended, "failed");
});

Deno.test("a failure with nothing else running finishes at once", () => {
  const dag = validatePipeline({ graph: { a: "b" } });
  const { state, log } = play(dag, {}, [fail("a")]);
  assertEquals(state.status, { a: "failed", b: "skipped" });
  assertEquals(log[1], [{ type: "finish", status: "failed", document: {} }]);
});

Deno.test("cancel marks pending and running jobs cancelled and finishes at once", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d" } });
  const { state, log } = play(dag, { k: 1 }, [ok("a", { a: 1 }), ok("c"), { type: "cancel" }]);
  assertEquals(state.status, { a: "succeeded", b: "cancelled", c: "succeeded", d: "cancelled" });
  assertEquals(log[3], [
    { type: "cancel-running", jobIds: ["b"] },
    { type: "finish", status: "cancelled", document: { k: 1, a: 1 } },
  ]);
});

Deno.test("cancel before start cancels every job without running any", () => {
  const dag = validatePipeline({ graph: { a: "b" } });
  const out = step(dag, initialState(dag, {}), { type: "cancel" });
  assertEquals(out.state.status, { a: "cancelled", b: "cancelled" });
  assertEquals(out.commands, [{ type: "finish", status: "cancelled", document: {} }]);
  assertEquals(step(dag, out.state, { type: "start" }).commands, []);
});

/** Event tables for at-least-once delivery: each must leave the state as it is. */
const ignored: Array<{ name: string; before: DagEvent[]; event: DagEvent }> = [
  { name: "a second start", before: [], event: { type: "start" } },
  { name: "a completion of a pending job", before: [], event: ok("b") },
  { name: "a failure of a pending job", before: [], event: fail("b") },
  { name: "a completion of an unknown job", before: [], event: ok("zzz") },
  { name: 'a completion of unknown "toString"', before: [], event: ok("toString") },
  { name: 'a completion of unknown "__proto__"', before: [], event: ok("__proto__") },
  { name: "a duplicate completion", before: [ok("a", { a: 1 })], event: ok("a", { late: 1 }) },
  { name: "a failure after a completion", before: [ok("a")], event: fail("a") },
  { name: "a completion after a failure", before: [fail("a")], event: ok("a") },
  { name: "a completion after the end", before: [ok("a"), ok("b")], event: ok("b") },
  { name: "a cancel after the end", before: [ok("a"), ok("b")], event: { type: "cancel" } },
  { name: "a completion after cancel", before: [{ type: "cancel" }], event: ok("a") },
  { name: "a second cancel", before: [{ type: "cancel" }], event: { type: "cancel" } },
];

for (const { name, before, event } of ignored) {
  Deno.test(`step ignores ${name}`, () => {
    const dag = validatePipeline({ graph: { a: "b" } });
    const { state } = play(dag, { k: 1 }, before);
    const out = step(dag, state, event);
    assert(out.state === state, "the state changed");
    assertEquals(out.commands, []);
  });
}

Deno.test("step does not change the state it is given", () => {
  const dag = validatePipeline({ graph: { a: "b" } });
  const started = step(dag, initialState(dag, { k: 1 }), { type: "start" }).state;
  const before = JSON.stringify(started);
  step(dag, started, ok("a", { a: 1 }));
  step(dag, started, { type: "cancel" });
  assertEquals(JSON.stringify(started), before);
});

Deno.test("the state is plain JSON, and a restored state carries on the same", () => {
  const dag = validatePipeline({ graph: { a: ["b", "c"], b: "d", c: "d" } });
  const { state } = play(dag, { n: 1 }, [ok("a", { a: 1 }), ok("b", { b: 2 })]);
  const restored = JSON.parse(JSON.stringify(state)) as DagState;
  assertEquals(restored, state);
  assertEquals(step(dag, restored, ok("c", { c: 3 })), step(dag, state, ok("c", { c: 3 })));
});

Deno.test('outputs and jobs called "__proto__" survive the merge and JSON', () => {
  const dag = validatePipeline(JSON.parse('{ "graph": { "__proto__": "b" } }'));
  const output = JSON.parse('{ "__proto__": { "x": 1 } }') as JsonObject;
  const { state, log } = play(dag, {}, [ok("__proto__", output), ok("b")]);
  const run = log[1]![0]!;
  assert(run.type === "run");
  assertEquals(Object.keys(run.input), ["__proto__"]);
  assertEquals(JSON.stringify(state.outputs), '{"__proto__":{"__proto__":{"x":1}},"b":{}}');
  const finish = log[2]![0]!;
  assert(finish.type === "finish");
  assertEquals(JSON.stringify(finish.document), '{"__proto__":{"x":1}}');
});
