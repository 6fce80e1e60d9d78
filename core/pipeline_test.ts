import { assert, assertEquals } from "../tests/_assert.ts";
import { PipelineValidationError } from "./errors.ts";
import { Job, Pipeline } from "./pipeline.ts";

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

Deno.test("a Map of Jobs repeats a function under distinct ids", () => {
  const first = new Job("ok");
  const second = new Job("ok");
  const last = new Job("tag", "end");
  const pipeline = new Pipeline(new Map<Job, Job | Job[]>([[first, second], [second, last]]));
  assertEquals(pipeline.toSpec(), {
    graph: { ok: ["ok#2"], "ok#2": ["end"] },
    jobs: { "ok#2": "ok", end: "tag" },
  });
});

Deno.test("an invalid Pipeline throws with every problem", () => {
  try {
    new Pipeline({ a: "b", b: "a" }, { data: [] as unknown as Record<string, never> });
    throw new Error("no error");
  } catch (error) {
    assert(error instanceof PipelineValidationError, String(error));
    assertEquals(error.problems.length, 2);
  }
});
