import { assert, assertEquals } from "../../tests/_assert.ts";
import { toDot, validatePipeline } from "./mod.ts";

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
