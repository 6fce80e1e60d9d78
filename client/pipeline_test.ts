import { assert, assertEquals } from "../tests/_assert.ts";
import { PipelineValidationError } from "../core/errors.ts";
import { Job, Pipeline } from "./pipeline.ts";
import type { JsonObject, PipelineSpec } from "../core/types.ts";

Deno.test("a Job's id defaults to its function", () => {
  assertEquals([new Job("links").fn, new Job("links").id], ["links", "links"]);
  assertEquals([new Job("links", "links2").fn, new Job("links", "links2").id], ["links", "links2"]);
});

Deno.test("a Job rejects a function that is not a string", () => {
  let error: unknown;
  try {
    new Job(3 as unknown as string);
  } catch (e) {
    error = e;
  }
  assert(error instanceof TypeError, String(error));
});

Deno.test("a Pipeline from a graph of names gives the Router's JSON", () => {
  const pipeline = new Pipeline({ downloader: ["text_and_words", "links"] }, {
    data: { url: "u" },
  });
  assertEquals(pipeline.toSpec(), {
    graph: { downloader: ["text_and_words", "links"] },
    data: { url: "u" },
  });
  assertEquals(pipeline.dag.jobs.map((j) => j.id), ["downloader", "text_and_words", "links"]);
  assert(pipeline.toDot().includes('"downloader" -> "links";'));
});

const fetch1 = new Job("downloader");
const fetch2 = new Job("downloader");
const merge = new Job("merge");
const tagged = new Job("tag", "end");

const fromJobs: Array<{ name: string; graph: Map<Job, Job | Job[]>; spec: PipelineSpec }> = [
  {
    name: "one function twice under distinct ids",
    graph: new Map([[fetch1, merge], [fetch2, merge]]),
    spec: {
      graph: { downloader: ["merge"], "downloader#2": ["merge"] },
      jobs: { "downloader#2": "downloader" },
    },
  },
  {
    name: "the same Job object as one job",
    graph: new Map<Job, Job | Job[]>([[fetch1, [merge, tagged]], [merge, tagged]]),
    spec: { graph: { downloader: ["merge", "end"], merge: ["end"] }, jobs: { end: "tag" } },
  },
  {
    name: "a chain of one function",
    graph: new Map([[fetch1, fetch2], [fetch2, new Job("downloader")]]),
    spec: {
      graph: { downloader: ["downloader#2"], "downloader#2": ["downloader#3"] },
      jobs: { "downloader#2": "downloader", "downloader#3": "downloader" },
    },
  },
  {
    name: "a suffix that skips ids already taken",
    graph: new Map<Job, Job | Job[]>([[new Job("x", "a#2"), new Job("a")], [new Job("a"), []]]),
    spec: { graph: { "a#2": ["a"], "a#3": [] }, jobs: { "a#2": "x", "a#3": "a" } },
  },
  {
    name: "a job with no edges",
    graph: new Map([[merge, []]]),
    spec: { graph: { merge: [] } },
  },
];

for (const { name, graph, spec } of fromJobs) {
  Deno.test(`a Map of Jobs gives ${name}`, () => {
    assertEquals(new Pipeline(graph).toSpec(), spec);
  });
}

Deno.test("a Map of Jobs runs the same function as different jobs in the DAG", () => {
  const pipeline = new Pipeline(new Map([[fetch1, merge], [fetch2, merge]]));
  assertEquals(
    pipeline.dag.jobs.map((job) => [job.id, job.fn]),
    [["downloader", "downloader"], ["downloader#2", "downloader"], ["merge", "merge"]],
  );
  assert(pipeline.toDot().includes('[label="downloader#2\\n(downloader)"]'), pipeline.toDot());
});

Deno.test("a Map holding something other than a Job is a TypeError", () => {
  let error: unknown;
  try {
    new Pipeline(new Map([[merge, "end" as unknown as Job]]));
  } catch (e) {
    error = e;
  }
  assert(error instanceof TypeError, String(error));
});

Deno.test("a Pipeline keeps its own copy of the graph and data", () => {
  const graph = { a: ["b"] };
  const data: JsonObject = { list: [1] };
  const pipeline = new Pipeline(graph, { data });
  graph.a.push("c");
  (data.list as number[]).push(2);
  const spec = pipeline.toSpec();
  assertEquals(spec, { graph: { a: ["b"] }, data: { list: [1] } });
  (spec.graph.a as string[]).push("z");
  assertEquals(pipeline.toSpec().graph, { a: ["b"] });
});

const invalid: Array<[string, () => unknown, string[]]> = [
  [
    "a cycle and bad data together",
    () => new Pipeline({ a: "b", b: "a" }, { data: [] as unknown as JsonObject }),
    ['Field "data" must be a JSON object', 'Cycle: "a" -> "b" -> "a"'],
  ],
  [
    "data holding a Date",
    () => new Pipeline({ a: [] }, { data: { when: new Date(0) as unknown as JsonObject } }),
    ['Field "data" holds a value JSON cannot carry at data.when: a Date'],
  ],
  [
    "an empty graph",
    () => new Pipeline({}),
    ['Field "graph" is empty'],
  ],
  [
    "a Job with an empty id",
    () => new Pipeline(new Map([[new Job("f", ""), []]])),
    ["A graph key is an empty job id"],
  ],
];

for (const [name, make, problems] of invalid) {
  Deno.test(`a Pipeline with ${name} throws with every problem`, () => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    assert(error instanceof PipelineValidationError, String(error));
    assertEquals([...error.problems], problems);
  });
}

Deno.test("Pipeline carries priority, delayMs and runAt (a Date as epoch ms), and checks them", () => {
  const spec = new Pipeline({ a: [] }, { priority: 9, runAt: new Date(5_000) }).toSpec();
  assertEquals([spec.priority, spec.runAt], [9, 5_000]);
  assertEquals(new Pipeline({ a: [] }, { delayMs: 1500 }).toSpec().delayMs, 1500);
  let error: unknown;
  try {
    new Pipeline({ a: [] }, { priority: 10, delayMs: 1, runAt: 1 });
  } catch (e) {
    error = e;
  }
  assert(error instanceof PipelineValidationError, String(error));
  assertEquals(error.problems.length, 2, "the priority, and delayMs with runAt");
});
