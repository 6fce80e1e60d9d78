import { assert, assertEquals } from "../../tests/_assert.ts";
import { DEFAULT_LIMITS, noteEncodedSize, validatePipeline } from "./mod.ts";
import { PipelineValidationError } from "../errors.ts";

function problemsOf(spec: unknown, limits = {}): string[] {
  try {
    validatePipeline(spec, { limits });
  } catch (error) {
    assert(error instanceof PipelineValidationError, String(error));
    return [...error.problems];
  }
  return [];
}

/** `levels` arrays, one inside the next. */
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

Deno.test("data of 100,000 nested arrays is refused by depth, without overflowing the stack", () => {
  const problems = problemsOf({ graph: { a: [] }, data: { deep: nested(100_000) } });
  assertEquals(problems.length, 1);
  assert(
    problems[0]!.startsWith(`Field "data" is nested deeper than ${DEFAULT_LIMITS.maxDataDepth}`),
    problems[0],
  );
  assert(problems[0]!.length < 400, "the path in the problem stays short");
});

Deno.test("data nested exactly to the depth limit passes; one level more is refused", () => {
  // `data` is level 1, so its value may nest maxDataDepth - 1 levels.
  const max = DEFAULT_LIMITS.maxDataDepth;
  assertEquals(problemsOf({ graph: { a: [] }, data: { x: nested(max - 1) } }), []);
  assertEquals(problemsOf({ graph: { a: [] }, data: { x: nested(max) } }), [
    `Field "data" is nested deeper than ${max} levels, at data.x${"[0]".repeat(max - 1)}`,
  ]);
  assertEquals(problemsOf({ graph: { a: [] }, data: { x: { y: {} } } }, { maxDataDepth: 2 }), [
    'Field "data" is nested deeper than 2 levels, at data.x.y',
  ]);
});

Deno.test("a long key in a problem's path is cut", () => {
  const key = "k".repeat(10_000);
  const [problem] = problemsOf({ graph: { a: [] }, data: { [key]: undefined } });
  assert(problem!.length < 200, problem);
});

Deno.test("data that came off the wire is bounded by its message's size, not encoded again", () => {
  const data = { s: "x".repeat(1000) };
  const limits = { maxDataBytes: 100 };
  // Measured: over the limit.
  assertEquals(problemsOf({ graph: { a: [] }, data }, limits), [
    'Field "data" is 1008 bytes; the limit is 100',
  ]);
  // A message of 50 bytes cannot carry more than 50 bytes of data: taken as the bound.
  // (The lie is only possible in a test: the parser notes the real frame size.)
  const small = { graph: { a: [] }, data };
  noteEncodedSize(small, 50);
  assertEquals(problemsOf(small, limits), []);
  // A message over the limit: data plainly over it is refused by a bound, not encoded.
  const big = { graph: { a: [] }, data };
  noteEncodedSize(big, 5000);
  assertEquals(problemsOf(big, limits), ['Field "data" is at least 1008 bytes; the limit is 100']);
  // The bound is never above the real size.
  for (const value of [{ a: [1, null, true, "é", {}, []] }, { "": "" }, { k: [[], [[]]] }]) {
    const spec = { graph: { a: [] }, data: value };
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    noteEncodedSize(spec, 5000);
    assertEquals(problemsOf(spec, { maxDataBytes: bytes }), [], JSON.stringify(value));
  }
  // ...and data that may fit is measured after all (here: "é" is 2 bytes in UTF-8).
  const close = { graph: { a: [] }, data: { s: "é".repeat(48) } };
  noteEncodedSize(close, 5000);
  assertEquals(problemsOf(close, limits), ['Field "data" is 104 bytes; the limit is 100']);
  const fits = { graph: { a: [] }, data: { s: "é".repeat(40), e: "😀" } };
  noteEncodedSize(fits, 5000);
  assertEquals(problemsOf(fits, limits), []);
  // The depth is checked either way.
  const deep = { graph: { a: [] }, data: { d: nested(1000) } };
  noteEncodedSize(deep, 2000);
  assertEquals(problemsOf(deep).length, 1);
});
