import { assert, assertEquals } from "../tests/_assert.ts";
import {
  type Dag,
  type DagCommand,
  type DagEvent,
  type DagState,
  initialState,
  inputOf,
  isChain,
  type PipelineLimits,
  PLAN_DEPTH,
  planAfter,
  restrictInput,
  step,
  toDot,
  validatePipeline,
} from "./dag.ts";
import { PipelineValidationError } from "./errors.ts";
import type { ErrorData, JsonObject } from "./types.ts";

function problemsOf(
  spec: unknown,
  options: { known?: string[]; limits?: Partial<PipelineLimits> } = {},
): string[] {
  try {
    validatePipeline(spec, {
      knownFunctions: options.known ? new Set(options.known) : undefined,
      limits: options.limits,
    });
  } catch (error) {
    assert(error instanceof PipelineValidationError, String(error));
    return [...error.problems];
  }
  return [];
}

const circular: Record<string, unknown> = {};
circular.self = circular;

const invalid: Array<{
  name: string;
  spec: unknown;
  problems: string[];
  known?: string[];
  limits?: Partial<PipelineLimits>;
}> = [
  { name: "an array", spec: [1], problems: ["The pipeline must be a JSON object"] },
  { name: "null", spec: null, problems: ["The pipeline must be a JSON object"] },
  { name: "a string", spec: "a", problems: ["The pipeline must be a JSON object"] },
  { name: "a missing graph", spec: {}, problems: ['Field "graph" is missing'] },
  { name: "an empty graph", spec: { graph: {} }, problems: ['Field "graph" is empty'] },
  { name: "a string graph", spec: { graph: "a" }, problems: ['Field "graph" must be an object'] },
  { name: "an array graph", spec: { graph: ["a"] }, problems: ['Field "graph" must be an object'] },
  {
    name: "a number as a graph value",
    spec: { graph: { a: 3 } },
    problems: ['The value of "a" must be a job id or a list of job ids'],
  },
  {
    name: "an object as a graph value",
    spec: { graph: { a: { b: 1 } } },
    problems: ['The value of "a" must be a job id or a list of job ids'],
  },
  {
    name: "a list with a non-string",
    spec: { graph: { a: ["b", 3, null] } },
    problems: [
      'A child of "a" must be a job id string, got 3',
      'A child of "a" must be a job id string, got null',
    ],
  },
  {
    name: "an empty child id",
    spec: { graph: { a: [""] } },
    problems: ['A child of "a" is an empty job id'],
  },
  {
    name: "an empty key",
    spec: { graph: { "": "a" } },
    problems: ["A graph key is an empty job id"],
  },
  {
    name: "an id over the length limit",
    spec: { graph: { abcdefg: "ok" } },
    limits: { maxIdLength: 5 },
    problems: ['Job id "abcdefg..." is longer than 5 characters'],
  },
  {
    name: "a job depending on itself",
    spec: { graph: { a: ["a"] } },
    problems: ['Job "a" depends on itself'],
  },
  {
    name: "a cycle, named job by job",
    spec: { graph: { a: "b", b: "c", c: "a" } },
    problems: ['Cycle: "a" -> "b" -> "c" -> "a"'],
  },
  {
    name: "two separate cycles, each named",
    spec: { graph: { a: "b", b: "a", c: "d", d: "c" } },
    problems: ['Cycle: "a" -> "b" -> "a"', 'Cycle: "c" -> "d" -> "c"'],
  },
  {
    name: "a cycle entered from outside, without the jobs outside it",
    spec: { graph: { start: "b", b: "c", c: ["b", "after"] } },
    problems: ['Cycle: "b" -> "c" -> "b"'],
  },
  {
    name: "two loops sharing a job, as their shortest cycle",
    spec: { graph: { a: ["b", "c"], b: "x", x: "a", c: "a" } },
    problems: ['Cycle: "a" -> "c" -> "a"'],
  },
  {
    name: "a long cycle, naming its first ten jobs",
    spec: {
      graph: Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`j${i}`, `j${(i + 1) % 30}`]),
      ),
    },
    problems: [
      `Cycle: ${
        Array.from({ length: 10 }, (_, i) => `"j${i}"`).join(" -> ")
      } -> (20 more jobs) -> "j0"`,
    ],
  },
  {
    name: "data that is not an object",
    spec: { graph: { a: [] }, data: [1] },
    problems: ['Field "data" must be a JSON object'],
  },
  {
    name: "data that is null",
    spec: { graph: { a: [] }, data: null },
    problems: ['Field "data" must be a JSON object'],
  },
  {
    name: "data holding a Date and undefined",
    spec: { graph: { a: [] }, data: { when: new Date(0), list: [1, undefined], "a b": NaN } },
    problems: [
      'Field "data" holds a value JSON cannot carry at data.when: a Date',
      'Field "data" holds a value JSON cannot carry at data.list[1]: undefined',
      'Field "data" holds a value JSON cannot carry at data["a b"]: NaN',
    ],
  },
  {
    name: "data holding a bigint",
    spec: { graph: { a: [] }, data: { n: 1n } },
    problems: ['Field "data" cannot be written as JSON: Do not know how to serialize a BigInt'],
  },
  {
    name: "data over the size limit, counted in UTF-8 bytes",
    spec: { graph: { a: [] }, data: { s: "éé" } },
    limits: { maxDataBytes: 10 },
    problems: ['Field "data" is 12 bytes; the limit is 10'],
  },
  {
    name: '"jobs" that is not an object',
    spec: { graph: { a: [] }, jobs: ["a"] },
    problems: ['Field "jobs" must map job ids to function names'],
  },
  {
    name: '"jobs" naming a job not in the graph',
    spec: { graph: { a: [] }, jobs: { b: "x" } },
    problems: ['Field "jobs" names "b", which is not in the graph'],
  },
  {
    name: '"jobs" giving no function name',
    spec: { graph: { a: [], b: [] }, jobs: { a: 1, b: "" } },
    problems: [
      'Field "jobs" must give job "a" a function name',
      'Field "jobs" must give job "b" a function name',
    ],
  },
  {
    name: "an unknown field",
    spec: { graph: { a: [] }, extra: 1 },
    problems: ['Unknown field "extra"'],
  },
  {
    name: "functions no broker knows, each once",
    spec: { graph: { get: ["links", "links2"] }, jobs: { links2: "links" } },
    known: ["get"],
    problems: ['Function "links" is not known to any broker'],
  },
  {
    name: "too many jobs",
    spec: { graph: { j0: [], j1: [], j2: [], j3: [], j4: [] } },
    limits: { maxJobs: 3 },
    problems: ["The pipeline has 5 jobs; the limit is 3"],
  },
  {
    name: "too many edges (a repeated edge counts once)",
    spec: { graph: { a: ["b", "c", "b"], b: "c" } },
    limits: { maxEdges: 2 },
    problems: ["The pipeline has 3 edges; the limit is 2"],
  },
];

for (const { name, spec, problems, known, limits } of invalid) {
  Deno.test(`validatePipeline rejects ${name}`, () => {
    assertEquals(problemsOf(spec, { known, limits }), problems);
  });
}

Deno.test("validatePipeline rejects circular data without throwing anything else", () => {
  const problems = problemsOf({ graph: { a: [] }, data: circular });
  assertEquals(problems.length, 1);
  assert(problems[0]!.startsWith('Field "data" cannot be written as JSON: '), problems[0]);
});

Deno.test("validatePipeline lists every problem at once, in a stable order", () => {
  assertEquals(
    problemsOf(
      {
        graph: { a: "b", b: "a", c: 5, d: [""] },
        data: "x",
        jobs: { a: "nope", q: "r" },
        extra: true,
      },
      { known: ["b", "d"] },
    ),
    [
      'Unknown field "extra"',
      'The value of "c" must be a job id or a list of job ids',
      'A child of "d" is an empty job id',
      'Field "data" must be a JSON object',
      'Field "jobs" names "q", which is not in the graph',
      'Function "nope" is not known to any broker',
      'Function "c" is not known to any broker',
      'Cycle: "a" -> "b" -> "a"',
    ],
  );
});

Deno.test("validatePipeline sums up problems past the hundredth", () => {
  const graph = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`j${i}`, 1]));
  const problems = problemsOf({ graph });
  assertEquals(problems.length, 100);
  assertEquals(problems[98], 'The value of "j98" must be a job id or a list of job ids');
  assertEquals(problems[99], "...and 51 more problems");
});

Deno.test("validatePipeline orders a 999-child fan-out by first appearance", () => {
  // This shape once took seconds (quadratic sort); no duration is asserted here.
  const children = Array.from({ length: 999 }, (_, i) => `k${998 - i}`);
  const dag = validatePipeline({ graph: { root: children } });
  assertEquals(dag.jobs.length, 1000);
  assertEquals(dag.jobs[1]!.id, "k998");
});

type JobRow = [id: string, fn: string, parents: string[], children: string[]];

const valid: Array<{ name: string; spec: unknown; jobs: JobRow[] }> = [
  {
    name: "the tutorial: one download, two consumers",
    spec: { graph: { downloader: ["text_and_words", "links"] } },
    jobs: [
      ["downloader", "downloader", [], ["text_and_words", "links"]],
      ["text_and_words", "text_and_words", ["downloader"], []],
      ["links", "links", ["downloader"], []],
    ],
  },
  {
    name: "a single id as a value",
    spec: { graph: { a: "b" } },
    jobs: [["a", "a", [], ["b"]], ["b", "b", ["a"], []]],
  },
  {
    name: "a job with no edges",
    spec: { graph: { solo: [] } },
    jobs: [["solo", "solo", [], []]],
  },
  {
    name: "a chain listed backwards, parents first",
    spec: { graph: { c: "d", b: "c", a: "b" } },
    jobs: [
      ["a", "a", [], ["b"]],
      ["b", "b", ["a"], ["c"]],
      ["c", "c", ["b"], ["d"]],
      ["d", "d", ["c"], []],
    ],
  },
  {
    name: "ties broken by first appearance",
    spec: { graph: { d: [], a: ["c", "b"], b: "e", c: "e" } },
    jobs: [
      ["d", "d", [], []],
      ["a", "a", [], ["c", "b"]],
      ["c", "c", ["a"], ["e"]],
      ["b", "b", ["a"], ["e"]],
      ["e", "e", ["c", "b"], []],
    ],
  },
  {
    name: "children listed out of order, given in topological order",
    spec: { graph: { x: "b", a: ["c", "b"] } },
    jobs: [
      ["x", "x", [], ["b"]],
      ["a", "a", [], ["b", "c"]],
      ["b", "b", ["x", "a"], []],
      ["c", "c", ["a"], []],
    ],
  },
  {
    name: "a diamond",
    spec: { graph: { a: ["b", "c"], b: "d", c: "d" } },
    jobs: [
      ["a", "a", [], ["b", "c"]],
      ["b", "b", ["a"], ["d"]],
      ["c", "c", ["a"], ["d"]],
      ["d", "d", ["b", "c"], []],
    ],
  },
  {
    name: "a repeated edge, kept once",
    spec: { graph: { a: ["b", "b"] } },
    jobs: [["a", "a", [], ["b"]], ["b", "b", ["a"], []]],
  },
  {
    name: "one function under two job ids",
    spec: {
      graph: { page1: "merge", page2: "merge" },
      jobs: { page1: "downloader", page2: "downloader" },
    },
    jobs: [
      ["page1", "downloader", [], ["merge"]],
      ["page2", "downloader", [], ["merge"]],
      ["merge", "merge", ["page1", "page2"], []],
    ],
  },
  {
    name: 'a job called "__proto__"',
    spec: JSON.parse('{ "graph": { "__proto__": ["b"] } }'),
    jobs: [["__proto__", "__proto__", [], ["b"]], ["b", "b", ["__proto__"], []]],
  },
];

for (const { name, spec, jobs } of valid) {
  Deno.test(`validatePipeline orders ${name}`, () => {
    const dag = validatePipeline(spec);
    assertEquals(
      dag.jobs.map((job): JobRow => [job.id, job.fn, [...job.parents], [...job.children]]),
      jobs,
    );
    for (const job of dag.jobs) assert(dag.byId.get(job.id) === job);
  });
}

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

const restricted: Array<[string, JsonObject, string[] | undefined, string]> = [
  ["keeps only the required keys", { a: 1, b: 2 }, ["b", "c"], '{"b":2}'],
  ["keeps everything without requires", { a: 1 }, undefined, '{"a":1}'],
  ["keeps nothing for an empty list", { a: 1 }, [], "{}"],
  ["never takes keys from the prototype", { a: 1 }, ["toString", "a"], '{"a":1}'],
  [
    "keeps a __proto__ key",
    JSON.parse('{"__proto__": 1, "b": 2}'),
    ["__proto__"],
    '{"__proto__":1}',
  ],
];

for (const [name, document, requires, expected] of restricted) {
  Deno.test(`restrictInput ${name}`, () => {
    assertEquals(JSON.stringify(restrictInput(document, requires)), expected);
  });
}

Deno.test("toDot draws the tutorial's jobs and edges", () => {
  const dag = validatePipeline({ graph: { downloader: ["text_and_words", "links"] } });
  assertEquals(
    toDot(dag),
    [
      "digraph pipeline {",
      "  rankdir=LR;",
      "  node [shape=box, style=filled, fillcolor=white];",
      '  "downloader" [label="downloader"];',
      '  "text_and_words" [label="text_and_words"];',
      '  "links" [label="links"];',
      '  "downloader" -> "text_and_words";',
      '  "downloader" -> "links";',
      "}",
    ].join("\n"),
  );
});

Deno.test("toDot shows functions where they differ and colours by status", () => {
  const dag = validatePipeline({ graph: { get: ["words"] }, jobs: { get: "downloader" } });
  const dot = toDot(dag, { get: "succeeded", words: "failed" });
  assert(dot.includes('  "get" [label="get\\n(downloader)", fillcolor=palegreen];'), dot);
  assert(dot.includes('  "words" [label="words", fillcolor=salmon];'), dot);
});

Deno.test("toDot escapes quotes and backslashes in ids", () => {
  const dag = validatePipeline({ graph: { 'say "hi"': "back\\" } });
  const dot = toDot(dag);
  assert(dot.includes('  "say \\"hi\\"" [label="say \\"hi\\""];'), dot);
  assert(dot.includes('  "say \\"hi\\"" -> "back\\\\";'), dot);
});

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
