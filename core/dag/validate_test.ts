import { assert, assertEquals } from "../../tests/_assert.ts";
import { type PipelineLimits, validatePipeline } from "./mod.ts";
import { PipelineValidationError } from "../errors.ts";

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
    problems: ['Field "jobs" must map job ids to function names or job options'],
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
